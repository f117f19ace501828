"""Cached JSON documents: rebuilt on a new serial or a purge; file URLs by storage."""

import json

from packages.cache.keys import project_key
from packages.cache.purgers import purge_keys_now
from packages.models import Release
from tests.factories import publish


def test_purge_of_project_key_drops_documents_of_an_unjournaled_change(client, db):
    release = publish("edited", "1.0", summary="before")
    assert json.loads(client.get("/pypi/edited/json").content)["info"]["summary"] == "before"
    assert json.loads(client.get("/pypi/edited/1.0/json").content)["info"]["summary"] == "before"

    # An admin edit that records no journal entry: the serial does not move.
    Release.objects.filter(pk=release.pk).update(summary="after")
    assert json.loads(client.get("/pypi/edited/json").content)["info"]["summary"] == "before"

    purge_keys_now([project_key("edited"), "all-projects"])
    assert json.loads(client.get("/pypi/edited/json").content)["info"]["summary"] == "after"
    assert json.loads(client.get("/pypi/edited/1.0/json").content)["info"]["summary"] == "after"


def test_purge_of_another_project_keeps_this_one_cached(client, db):
    release = publish("kept", "1.0", summary="before")
    client.get("/pypi/kept/json")
    Release.objects.filter(pk=release.pk).update(summary="after")
    purge_keys_now([project_key("other")])
    assert json.loads(client.get("/pypi/kept/json").content)["info"]["summary"] == "before"


def test_file_urls_come_from_s3_storage_when_configured(client, db, settings):
    publish("ons3", "1.0")
    settings.INDEX_STORAGE = "s3"
    settings.AWS_QUERYSTRING_AUTH = False
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "dists", "custom_domain": "files.example.org",
                "querystring_auth": False,
            },
        },
    }
    files = json.loads(client.get("/pypi/ons3/json").content)["urls"]
    assert [f["url"].split("/packages/")[0] for f in files] == ["https://files.example.org"] * 2
    assert files[0]["url"].endswith("/ons3-1.0-py3-none-any.whl")


def test_file_urls_use_index_base_url_for_local_storage(client, db, settings):
    settings.INDEX_BASE_URL = "https://index.example"
    release = publish("local", "1.0", sdist=False)
    file = release.files.get()
    url = json.loads(client.get("/pypi/local/json").content)["urls"][0]["url"]
    assert url == f"https://index.example/{file.path}"
    assert file.path.startswith("packages/")


def test_large_documents_kept_in_process_still_follow_purges(client, db):
    from packages.http.shared_cache import local_bodies
    from tests.api.test_json_scale import build_big_project

    project = build_big_project("large", releases=150, files_per_release=3)
    first = client.get("/pypi/large/json")
    assert any(value[0] == first.content for value, _ in local_bodies._entries.values())
    assert client.get("/pypi/large/json").content == first.content
    assert client.get("/pypi/large/json", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    Release.objects.filter(project=project).update(summary="edited")
    purge_keys_now([project_key("large")])
    after = client.get("/pypi/large/json")
    assert json.loads(after.content)["info"]["summary"] == "edited"
    assert after["ETag"] != first["ETag"]
    assert client.get("/pypi/large/json", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_purge_reaches_every_spelling_of_a_version_url(client, db):
    release = publish("spelled", "1.0.0", summary="before")
    for path in ["/pypi/spelled/1.0.0/json", "/pypi/spelled/1/json", "/pypi/spelled/1.0/json"]:
        assert json.loads(client.get(path).content)["info"]["summary"] == "before"

    Release.objects.filter(pk=release.pk).update(summary="after")
    purge_keys_now([project_key("spelled")])
    for path in ["/pypi/spelled/1.0.0/json", "/pypi/spelled/1/json", "/pypi/spelled/1.0/json"]:
        assert json.loads(client.get(path).content)["info"]["summary"] == "after", path


def test_renaming_a_role_holder_shows_on_the_next_request(
    client, db, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group

    from packages.curation.roles import add_role
    from tests.factories import create_user

    ada = create_user("ada")
    release = publish("renamed", "1.0.0", owner=ada)
    team = Group.objects.create(name="core-team")
    add_role(release.project, role_name="Maintainer", group=team)
    paths = ["/pypi/renamed/json", "/pypi/renamed/1/json"]
    for path in paths:
        ownership = json.loads(client.get(path).content)["ownership"]
        assert ownership == {"organization": "core-team", "roles": [{"role": "Owner", "user": "ada"}]}

    # Neither change writes a journal entry: the serial stays, the documents follow.
    serial = client.get(paths[0])["X-PyPI-Last-Serial"]
    with django_capture_on_commit_callbacks(execute=True):
        ada.username = "ada-lovelace"
        ada.save()
        team.name = "maintainers"
        team.save()
    for path in paths:
        response = client.get(path)
        assert response["X-PyPI-Last-Serial"] == serial
        assert json.loads(response.content)["ownership"] == {
            "organization": "maintainers", "roles": [{"role": "Owner", "user": "ada-lovelace"}],
        }

    with django_capture_on_commit_callbacks(execute=True):
        ada.delete()  # takes the role with it, unjournaled
    for path in paths:
        assert json.loads(client.get(path).content)["ownership"]["roles"] == []


def test_documents_are_served_when_the_shared_cache_is_down(client, db, settings):
    publish("resilient", "1.0")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    for _ in range(2):
        response = client.get("/pypi/resilient/json")
        assert response.status_code == 200
        assert json.loads(response.content)["info"]["version"] == "1.0"
    assert client.get("/pypi/resilient/1.0/json").status_code == 200
    etag = response["ETag"]
    assert client.get("/pypi/resilient/json", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_cached_answer_has_the_bytes_and_headers_of_the_built_one(client, db):
    publish("hot", "1.0")
    for path in ["/pypi/hot/json", "/pypi/hot/1.0/json", "/pypi/hot/json/"]:
        built = client.get(path)
        cached = client.get(path)
        assert cached.content == built.content
        assert dict(cached.headers) == dict(built.headers), path
        assert cached["Content-Length"] == str(len(cached.content))
        built_304 = client.get(path, HTTP_IF_NONE_MATCH=built["ETag"])
        assert built_304.status_code == 304
        assert built_304["ETag"] == built["ETag"]
        assert built_304["X-PyPI-Last-Serial"] == built["X-PyPI-Last-Serial"]
        assert built_304["Surrogate-Key"] == built["Surrogate-Key"]


def test_cached_documents_are_not_served_past_read_auth(client, db, settings):
    publish("private", "1.0")
    assert client.get("/pypi/private/json").status_code == 200  # now cached
    settings.INDEX_READ_AUTH = "authenticated"
    response = client.get("/pypi/private/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
