"""The URLconf's resolution, once per request, and the hot path it feeds.

Routing lives in the URLconfs only. A view a URLconf marks with ``hot_path`` is
answered for GET and HEAD by ``HotPathMiddleware``, installed right after the
consumer policy and read auth (see MIDDLEWARE in settings.py), so both still
apply, and so do the security headers; the session, CSRF, authentication and
messages middleware below it are skipped: public reads read no cookie and set
none, and that work was a third of a cached simple page (bench/README.md).
Everything else, and any request a hot view passes on, takes the whole chain."""

from functools import lru_cache

from django.urls import Resolver404, get_resolver

from packages.http.errors import statement_timeout_response

_UNRESOLVED = object()


def hot_path(view, *, early=None):
    """Mark ``view`` to be answered early for GET and HEAD: by ``early(request,
    *args, **kwargs)``, which may return None to let the request go on to the
    view through the rest of the middleware, or by the view itself."""
    view.answer_early = early or view
    return view


def resolve_view(request):
    """The ResolverMatch of ``request.path_info`` (the path the URLconf routes,
    whatever SCRIPT_NAME says), resolved once per request; None for a path no
    view serves."""
    match = getattr(request, "_resolved_view", _UNRESOLVED)
    if match is _UNRESOLVED:
        resolver, path = get_resolver(getattr(request, "urlconf", None)), request.path_info
        # Long paths are resolved but not remembered: the memo stays small
        # whatever clients send.
        match = (_resolve if len(path) <= 256 else _resolve.__wrapped__)(resolver, path)
        request._resolved_view = match
    return match


@lru_cache(maxsize=4096)
def _resolve(resolver, path: str):
    # Resolving walks the URLconf in order, raising and catching Resolver404 on
    # the way (~30 us, a tenth of a cached page); the answer depends only on the
    # URLconf (a new one is a new resolver, so a new key) and the path, and
    # clients ask for the same pages again and again.
    try:
        return resolver.resolve(path)
    except Resolver404:
        return None


class HotPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            match = resolve_view(request)
            early = getattr(match.func, "answer_early", None) if match is not None else None
            if early is not None:
                request.resolver_match = match
                try:
                    response = early(request, *match.args, **match.kwargs)
                except Exception as exc:
                    # No process_exception runs for an answer given here.
                    if (timeout := statement_timeout_response(exc)) is None:
                        raise
                    return timeout
                if response is not None:
                    return response
        return self.get_response(request)
