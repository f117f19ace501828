"""Fixtures and helpers of the admin curation tests: a superuser's client, the
keys purged after commit, and an action run through its confirmation page."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from packages.cache.purgers import _purgers, register_purger
from packages.models import JournalEntry


@pytest.fixture(autouse=True)
def fresh_simple_pages():
    from packages.http.shared_cache import local_bodies

    local_bodies.clear()
    yield
    local_bodies.clear()


@pytest.fixture
def root():
    return User.objects.create_superuser("root", "", "pw-root-123")


@pytest.fixture
def admin_client(client, root):
    client.force_login(root)
    return client


@pytest.fixture
def purged(django_capture_on_commit_callbacks):
    """The keys purged by what runs inside ``with purged.capture():``, commit hooks run."""

    class Purges(list):
        def capture(self):
            return django_capture_on_commit_callbacks(execute=True)

    keys = Purges()
    register_purger(keys.extend)
    yield keys
    _purgers.remove(keys.extend)


def confirm(client, model, action, objects, purged=None, **form):
    """POST the action, check the confirmation page changed nothing, then confirm it."""
    url = reverse(f"admin:packages_{model}_changelist")
    pks = [obj.pk for obj in objects]
    serial = JournalEntry.objects.count()
    page = client.post(url, {"action": action, "_selected_action": pks})
    assert page.status_code == 200, page.content.decode()[:500]
    body = page.content.decode()
    assert "Nothing has changed yet" in body and 'name="confirm" value="yes"' in body
    assert JournalEntry.objects.count() == serial  # the first POST changed nothing
    data = {"action": action, "_selected_action": pks, "confirm": "yes", **form}
    if purged is None:
        response = client.post(url, data)
    else:
        with purged.capture():
            response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return body


def latest_entry():
    entry = JournalEntry.objects.latest("id")
    return entry.name, entry.version, entry.action, entry.submitted_by


def simple_filenames(client, name):
    response = client.get(f"/simple/{name}/", HTTP_ACCEPT="application/vnd.pypi.simple.v1+json")
    if response.status_code == 404:
        return None
    return sorted(f["filename"] for f in response.json()["files"])
