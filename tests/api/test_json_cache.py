"""Cached JSON documents: rebuilt on a new serial or a purge; file URLs by storage."""

import json

from packages.caching import project_key, purge_keys_now
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
    from api.caching import local_bodies
    from tests.api.test_json_scale import build_big_project

    project = build_big_project("large", releases=150, files_per_release=3)
    first = client.get("/pypi/large/json")
    assert len(first.content) > local_bodies.MIN_SIZE  # kept in this process too
    assert client.get("/pypi/large/json").content == first.content
    assert client.get("/pypi/large/json", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    Release.objects.filter(project=project).update(summary="edited")
    purge_keys_now([project_key("large")])
    after = client.get("/pypi/large/json")
    assert json.loads(after.content)["info"]["summary"] == "edited"
    assert after["ETag"] != first["ETag"]
    assert client.get("/pypi/large/json", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
