# Indexes for an index at PyPI's size (issue 14): filled in by the scale work.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("packages", "0006_release_quarantine_project_pending")]

    operations = []
