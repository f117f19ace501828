from django.core.management.base import BaseCommand

from packages.curation.yanking import yank_release
from packages.management.commands._lookup import get_release


class Command(BaseCommand):
    help = "Yank a release (PEP 592): installers skip it unless pinned with ==."

    def add_arguments(self, parser):
        parser.add_argument("project")
        parser.add_argument("version")
        parser.add_argument("--reason", default="")

    def handle(self, *args, project, version, reason, **options):
        release = get_release(project, version)
        changed = yank_release(release, reason=reason)
        state = "yanked" if changed else "already yanked"
        self.stdout.write(f"{release.project.name} {release.version} {state}")
