import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Make sure an admin account exists. A new one gets a random password, kept in "
        "INDEX_DATA_DIR/admin-password.txt (readable by its owner only) and printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("INDEX_ADMIN_USERNAME", "admin"))

    def handle(self, *args, username, **options):
        User = get_user_model()
        password_file = settings.DATA_DIR / "admin-password.txt"
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(18)
            User.objects.create_superuser(username=username, email="", password=password)
            settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        elif password_file.exists() and user.check_password(password_file.read_text().strip()):
            password = password_file.read_text().strip()
        else:
            password = None
        login = f"{settings.INDEX_BASE_URL}/admin/"
        if password:
            self.stdout.write(
                f"Admin: log in at {login} as '{username}' with password {password} "
                f"(kept in {password_file})."
            )
        else:
            self.stdout.write(
                f"Admin: log in at {login} as '{username}' (password changed since set-up; "
                f"reset it with: .venv/bin/python manage.py changepassword {username})."
            )
