"""The admin cannot be used to plant script or leak a token's secret: fields the
index derives are never form inputs, the project page shows only sanitized
description HTML, and a new token's secret exists only in the creating response."""

import logging
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.contrib.messages.storage.cookie import CookieStorage
from django.urls import reverse

from packages.curation.tokens import find_active_token
from packages.models import ApiToken, ConsumerBan, File, ProhibitedProjectName, Release
from packages.uploads.descriptions import render_release_description
from tests.factories import create_user, publish

SCRIPT = "<script>alert(document.cookie)</script>"

# What the index computes rather than a curator enters, per admin model.
DERIVED = {
    "project": {"normalized_name", "ultranormalized_name", "last_serial", "total_size",
                "created"},
    # All of a release or file comes from its upload (an inline's hidden "id" names
    # the row, it changes nothing).
    "release": {f.name for f in Release._meta.fields if not f.primary_key},
    "file": {f.name for f in File._meta.fields if not f.primary_key},
    "apitoken": {"identifier", "secret_hash", "created", "last_used"},
    "prohibitedprojectname": {"normalized_name", "created"},
    "consumerban": {"created"},
}


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "", "pw-root-123"))
    return client


@pytest.fixture
def release(db):
    release = publish("Shown.Proj", "1.0", description="# Hello\n\nSome *markdown*.",
                      description_content_type="text/markdown")
    render_release_description(release.pk)
    release.refresh_from_db()
    assert "user-content-hello" in release.description_html
    return release


def _input_names(page: str) -> set[str]:
    """Names of the form inputs on an admin page, inline prefixes ("files-0-") and
    split-widget suffixes ("created_0" for a date and "created_1" for a time) cut."""
    names = re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', page)
    return {re.sub(r"_[01]$", "", name.rsplit("-", 1)[-1]) for name in names}


def _resubmitted(response) -> dict:
    """The change form's data as the page offers it, ready to post back."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        for field in form:
            value = field.value()
            if value is not None and value is not False:
                data[field.html_name] = value
    return data


def test_staff_with_change_permission_cannot_store_script_in_a_release(client, release):
    staff = create_user("curator", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="packages", codename__in=["view_release", "change_release"]))
    client.force_login(staff)
    url = reverse("admin:packages_release_change", args=[release.pk])
    form_page = client.get(url)
    assert form_page.status_code == 200
    rendered = release.description_html
    data = _resubmitted(form_page)
    data.update(description_html=SCRIPT, description_rendered_from="forged",
                canonical_version="9.9", summary=SCRIPT)

    response = client.post(url, data)

    assert response.status_code == 302  # accepted, with nothing in it to change
    release.refresh_from_db()
    assert release.description_html == rendered
    assert (release.description_rendered_from, release.canonical_version) != ("forged", "9.9")
    assert release.summary == "A test package"
    page = client.get("/project/shown-proj/").content.decode()
    assert "user-content-hello" in page and "<script" not in page


@pytest.mark.parametrize("name", sorted(DERIVED))
def test_admin_forms_offer_no_derived_field_as_input(admin_client, release, name):
    ApiToken.objects.create(user=create_user("ci"), identifier="abc", secret_hash="0" * 64)
    ProhibitedProjectName.objects.create(name="Reserved", reason="ours")
    ConsumerBan.objects.create(network="203.0.113.0/24", reason="scraper")
    model = {m._meta.model_name: m for m in (
        Release, File, ApiToken, ProhibitedProjectName, ConsumerBan)}.get(name)
    obj = model.objects.first() if model else release.project
    pages = [admin_client.get(reverse(f"admin:packages_{name}_change", args=[obj.pk]))]
    if name not in ("release", "file"):  # those two come from uploads only
        pages.append(admin_client.get(reverse(f"admin:packages_{name}_add")))
    for response in pages:
        assert response.status_code == 200
        names = _input_names(response.content.decode())
        assert "csrfmiddlewaretoken" in names  # the page is a form at all
        assert not names & DERIVED[name], (response.request["PATH_INFO"], names & DERIVED[name])


def test_project_page_cleans_stored_html_whatever_wrote_it(client, release):
    rendered = release.description_html
    # As a shell, a restored dump or an old admin form could have left it.
    Release.objects.filter(pk=release.pk).update(description_html=(
        f'{SCRIPT}<p onclick="steal()">kept text</p><img src="x" onerror="steal()">'
        '<a href="javascript:steal()">link</a>'))
    page = client.get("/project/shown-proj/").content.decode()
    description = page[page.index('id="description"'):page.index("<h2>Files</h2>")]
    assert "kept text" in description
    for bad in ("<script", "onclick", "onerror", "javascript:"):
        assert bad not in description

    # What the renderer produced goes through unchanged.
    Release.objects.filter(pk=release.pk).update(description_html=rendered)
    assert rendered in client.get("/project/shown-proj/").content.decode()


def _cookie_texts(response) -> list[str]:
    """Every cookie the response sets; the messages cookie also decoded, since it is
    signed and possibly compressed, so a secret in it need not show literally."""
    texts = []
    for morsel in response.cookies.values():
        texts.append(morsel.OutputString())
        if morsel.key == CookieStorage.cookie_name and morsel.value:
            texts += [str(m) for m in CookieStorage(None)._decode(morsel.value) or []]
    return texts


def test_new_token_secret_is_shown_once_in_the_creating_response_only(admin_client, caplog):
    caplog.set_level(logging.DEBUG)
    user = create_user("ci")
    response = admin_client.post(reverse("admin:packages_apitoken_add"), {
        "user": str(user.pk), "description": "pipeline", "expires_in_days": "30"})

    # The whole token is the identifier the database stores and then the secret (the
    # admin's history and str(token) show "isk_<identifier>_…", never more).
    token = ApiToken.objects.get()
    whole_token = re.compile(rf"isk_{token.identifier}_[\w-]{{16}}")
    assert not any(whole_token.search(text) for text in _cookie_texts(response))
    assert not whole_token.search(repr(dict(admin_client.session.items())))
    assert not whole_token.search(caplog.text) and "Location" not in response

    assert response.status_code == 200
    body = response.content.decode()
    plaintext = re.search(r'id="new-token">(isk_[^<]+)<', body).group(1)
    assert whole_token.match(plaintext) and find_active_token(plaintext) == token
    secret = plaintext.removeprefix(f"isk_{token.identifier}_")
    assert body.count(secret) == 1
    assert "no-store" in response["Cache-Control"]
    assert not any(secret in text for text in _cookie_texts(response))
    assert secret not in caplog.text
    assert not any(secret in repr(vars(e)) for e in LogEntry.objects.all())

    for url in [reverse("admin:packages_apitoken_changelist"),
                reverse("admin:packages_apitoken_change", args=[token.pk]),
                reverse("admin:packages_apitoken_change", args=[token.pk]),  # a reload
                reverse("admin:index")]:
        later = admin_client.get(url)
        assert later.status_code == 200
        assert secret not in later.content.decode()
        assert not any(secret in text for text in _cookie_texts(later))
    assert secret not in repr(dict(admin_client.session.items()))
