import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from packages.curation.tokens import find_active_token
from packages.models import JournalEntry, Release
from tests.factories import create_user, publish


def test_createtoken_prints_the_token_alone_on_the_last_line(db):
    user = create_user("bob")
    publish("alpha", "1.0", owner=user)
    out = StringIO()
    call_command("createtoken", "bob", "--project", "alpha", "--read-only",
                 "--description", "mirror", "--expires", "3", stdout=out, stderr=StringIO())
    token = find_active_token(out.getvalue().strip().splitlines()[-1])
    assert token.user == user and token.read_only and token.description == "mirror"
    assert [p.name for p in token.projects.all()] == ["alpha"]
    assert token.expires is not None


@pytest.mark.parametrize("argv, message", [
    (["createtoken", "nobody"], "Unknown user: nobody"),
    (["yank", "nope", "1.0"], "Unknown project: nope"),
    (["unyank", "alpha", "9.9"], "Unknown version 9.9 of alpha"),
])
def test_commands_refuse_unknown_names(db, argv, message):
    publish("alpha", "1.0")
    with pytest.raises(CommandError, match=message):
        call_command(*argv, stdout=StringIO())


def test_yank_and_unyank_journal(db):
    publish("alpha", "1.0")
    call_command("yank", "Alpha", "1.0.0", "--reason", "broken", stdout=StringIO())
    release = Release.objects.get()
    assert release.yanked and release.yanked_reason == "broken"
    assert JournalEntry.objects.latest("id").action == "yank release"
    call_command("unyank", "alpha", "1.0", stdout=StringIO())
    release.refresh_from_db()
    assert not release.yanked
    assert JournalEntry.objects.latest("id").action == "unyank release"


def test_unknown_user_exits_non_zero_with_one_line_on_stderr(tmp_path):
    # A real process: the exit status and stderr are what scripts see.
    env = {"PATH": "/usr/bin:/bin", "INDEX_DATA_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=settings.BASE_DIR,
                   env=env, check=True)
    result = subprocess.run([sys.executable, "manage.py", "createtoken", "ghost"],
                            cwd=settings.BASE_DIR, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.strip() == "CommandError: Unknown user: ghost"
    assert result.stdout == ""
