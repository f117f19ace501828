# The CDN purge catch-up's state (issue 14): packages/cache/models.py.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("packages", "0007_scale_indexes")]

    operations = [
        migrations.CreateModel(
            name="CdnPurgeState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("node", models.CharField(max_length=1000, unique=True)),
                ("acked_serial", models.BigIntegerField(default=0)),
                ("updated", models.DateTimeField(auto_now=True)),
            ],
            options={"verbose_name": "CDN purge state"},
        ),
    ]
