"""Production settings come from the environment: the README's production
environment passes Django's deployment checks, and the defaults stay safe."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection

from indexsite.database_url import database_from_url

ROOT = Path(__file__).resolve().parents[2]


def readme_production_environment() -> dict[str, str]:
    """The variables of the `export` command in the README's Production section."""
    section = (ROOT / "README.md").read_text().split("## Production", 1)[1]
    command = re.search(r"^export (.*?)\n(?!\s)", section, re.S | re.M).group(1)
    words = shlex.split(command.replace("\\\n", " "))
    return dict(word.split("=", 1) for word in words)


def manage(*args, env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env},
        capture_output=True, text=True, timeout=120,
    )


def test_readme_production_environment_passes_check_deploy(tmp_path):
    env = readme_production_environment()
    assert {"SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS"} <= set(env)
    env["SECRET_KEY"] = "k" + os.urandom(32).hex()  # the README's "..." stands for one
    env["INDEX_DATA_DIR"] = str(tmp_path)
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_those_variables_check_deploy_names_what_is_missing(tmp_path):
    env = readme_production_environment()
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
                 "SECURE_SSL_REDIRECT"):
        env.pop(name)
    env["SECRET_KEY"] = "k" + os.urandom(32).hex()
    env["INDEX_DATA_DIR"] = str(tmp_path)
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr + result.stdout


def test_a_malformed_proxy_ssl_header_stops_startup(tmp_path):
    result = manage("check", env={"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
                                  "INDEX_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER" in result.stderr


@pytest.mark.parametrize("password", ["12345678901234", "password1234", "alice-alice"])
def test_weak_passwords_are_refused(db, password):
    from tests.factories import create_user

    with pytest.raises(ValidationError):
        validate_password(password, user=create_user("alice-alice"))


def test_a_strong_password_is_accepted(db):
    validate_password("correct horse battery staple 7")


def test_postgresql_connections_carry_a_statement_timeout(monkeypatch):
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "2500")
    config = database_from_url("postgresql://u@h/db?sslmode=require", sqlite_default=Path("x"))
    assert config["OPTIONS"] == {"sslmode": "require", "options": "-c statement_timeout=2500"}
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "0")
    config = database_from_url("postgresql://u@h/db", sqlite_default=Path("x"))
    assert "options" not in config["OPTIONS"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_the_running_database_cancels_long_statements(db):
    from django.db import OperationalError, transaction

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "5s"
    with pytest.raises(OperationalError, match="statement timeout"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 50")
            cursor.execute("SELECT pg_sleep(1)")


@pytest.mark.parametrize("url, name", [
    ("sqlite:///relative.sqlite3", "relative.sqlite3"),
    ("sqlite:////srv/index/db.sqlite3", "/srv/index/db.sqlite3"),
])
def test_sqlite_urls_name_the_file_they_say(url, name):
    config = database_from_url(url, sqlite_default=Path("default.sqlite3"))
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == name
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgresql_url_parts_are_decoded():
    config = database_from_url("postgresql://us%40r:p%2Fss@db.example:5433/index",
                               sqlite_default=Path("x"))
    assert (config["USER"], config["PASSWORD"], config["HOST"], str(config["PORT"]),
            config["NAME"]) == ("us@r", "p/ss", "db.example", "5433", "index")
    assert config["CONN_HEALTH_CHECKS"] is True


def test_an_unsupported_database_url_is_refused():
    with pytest.raises(ValueError, match="not supported"):
        database_from_url("mysql://u@h/db", sqlite_default=Path("x"))


def test_reading_settings_creates_no_folder_and_starting_django_creates_the_sqlite_one(tmp_path):
    data_dir = tmp_path / "fresh" / "data"
    code = ("import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'indexsite.settings'\n"
            "from django.conf import settings; settings.DATA_DIR\n"
            f"assert not os.path.exists({str(data_dir)!r}), 'created at import'\n"
            "import django; django.setup()\n"
            f"assert os.path.isdir({str(data_dir)!r}), 'not created at startup'\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    base.pop("DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env={**base, "INDEX_DATA_DIR": str(data_dir)}, timeout=60)
    assert result.returncode == 0, result.stderr
