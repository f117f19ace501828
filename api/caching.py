"""Where rendered JSON documents live in the Django cache.

A document is stored under a key holding the project's ``last_serial``, so a
journaled change needs no deletion: the next request misses and rebuilds. A
purge of ``project/<n>`` (a change that was not journaled, such as an admin's
metadata edit) drops the documents of the project's current serial as well:
the project route and each release under its stored version spelling."""

import hashlib

from django.conf import settings
from django.core.cache import cache

from packages.models import Project, Release

# Bump when the body format changes, so cached bodies of the old format are ignored.
FORMAT = "1"
PROJECT_ROUTE = "project"
_PROJECT_KEY_PREFIX = "project/"


def release_route(version: str) -> str:
    return f"release\n{version}"


def document_key(project_pk: int, last_serial: int, route: str) -> str:
    """Key of the body; the ETag alone is kept under the same key + ``:etag``."""
    route_hash = hashlib.sha256(f"{settings.INDEX_BASE_URL}\n{route}".encode()).hexdigest()
    return f"api-json:{FORMAT}:{project_pk}:{last_serial}:{route_hash}"


def drop_project_documents(keys: list[str]) -> None:
    """Purger (see packages.caching.register_purger) for ``project/<n>`` keys."""
    names = [key[len(_PROJECT_KEY_PREFIX):] for key in keys if key.startswith(_PROJECT_KEY_PREFIX)]
    if not names:
        return
    doomed = []
    for pk, serial in Project.objects.filter(normalized_name__in=names).values_list(
        "pk", "last_serial"
    ):
        routes = [PROJECT_ROUTE] + [
            release_route(version)
            for version in Release.objects.filter(project_id=pk).values_list("version", flat=True)
        ]
        for route in routes:
            key = document_key(pk, serial, route)
            doomed += [key, f"{key}:etag"]
    if doomed:
        cache.delete_many(doomed)
