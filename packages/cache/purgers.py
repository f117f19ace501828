"""Running a purge now: bump the keys' generations in the shared cache (which
every read API's cached answers are checked against or keyed by,
packages.http.shared_cache), then every registered purger (``packages.cache.cdn``
sends the keys to a CDN when one is configured; apps register what they cache)."""

from collections.abc import Callable, Iterable

from packages.http.shared_cache import bump_generations

_purgers: list[Callable[[list[str]], None]] = []


def register_purger(purger: Callable[[list[str]], None]) -> None:
    """Add a function called with the list of keys on every purge (idempotent)."""
    if purger not in _purgers:
        _purgers.append(purger)


def purge_keys_now(keys: Iterable[str]) -> None:
    """Bump the generations, then run every purger; one failing (a CDN down)
    does not stop the others, and the first error is raised at the end."""
    keys = sorted(set(keys))
    bump_generations(keys)  # never raises
    errors = []
    for purger in list(_purgers):
        try:
            purger(keys)
        except Exception as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)
    if errors:
        raise errors[0]
