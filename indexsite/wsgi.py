import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "indexsite.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (settings are loaded by now)

if not settings.DEBUG and settings.INSECURE_SECRET_KEY_IN_USE:
    raise ImproperlyConfigured(
        "Refusing to start with DEBUG off and the default SECRET_KEY: set SECRET_KEY "
        "(or DEBUG=1 for local development)."
    )
