"""The Celery app. Without CELERY_BROKER_URL tasks run eagerly in-process.

Periodic tasks (CELERY_BEAT_SCHEDULE in settings: the CDN purge catch-up) run
from one ``celery -A indexsite beat`` process beside the workers."""

import os
from pathlib import Path

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "indexsite.settings")

app = Celery("indexsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.import_modules.connect(sender=app)
def _create_beat_schedule_folder(sender, **kwargs):
    """beat opens its schedule file (under the data folder by default) before
    anything else would have created that folder on a PostgreSQL deployment."""
    Path(sender.conf.beat_schedule_filename).parent.mkdir(parents=True, exist_ok=True)
