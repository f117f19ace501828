from django.core.management.base import BaseCommand, CommandError

from packages.curation.tokens import create_token
from packages.management.commands._lookup import get_project, get_user


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (alone on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--project", action="append", default=[],
                            help="Limit the token to this project (repeatable).")
        parser.add_argument("--read-only", action="store_true",
                            help="Download only; the token cannot upload.")
        parser.add_argument("--description", default="")
        parser.add_argument("--expires", type=int, metavar="DAYS",
                            help="Expire after this many days.")

    def handle(self, *args, username, project, read_only, description, expires, **options):
        if expires is not None and expires < 1:
            raise CommandError("--expires takes a whole number of days, 1 or more")
        user = get_user(username)
        projects = [get_project(name) for name in project]
        token, plaintext = create_token(
            user, projects=projects, read_only=read_only, description=description,
            expires_in_days=expires,
        )
        scope = ", ".join(p.name for p in projects) or "all of the user's projects"
        self.stderr.write(
            f"Token for {user.get_username()} ({'read-only' if read_only else 'upload'}; {scope}). "
            "Use the username __token__ with it; it is shown only once."
        )
        self.stdout.write(plaintext)
