from django.core.management.base import BaseCommand

from packages.curation.yanking import unyank_release
from packages.management.commands._lookup import get_release


class Command(BaseCommand):
    help = "Clear the yank of a release."

    def add_arguments(self, parser):
        parser.add_argument("project")
        parser.add_argument("version")

    def handle(self, *args, project, version, **options):
        release = get_release(project, version)
        changed = unyank_release(release)
        state = "un-yanked" if changed else "was not yanked"
        self.stdout.write(f"{release.project.name} {release.version} {state}")
