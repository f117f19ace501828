"""Cross-API middleware living with the domain (API apps never import each other)."""

from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import patch_cache_control

from packages.access.basic_auth import (
    AuthenticationFailed,
    authenticate_basic,
    www_authenticate_header,
)
from packages.access.throttle import TooManyFailures
from packages.http.errors import domain_error_response, error_response

# Paths that keep their own authentication: the admin and the account pages
# (sessions: a person logs in there to make the token that reads), the upload
# endpoint (tokens with upload scope), and static assets for the admin.
_OWN_AUTH_PREFIXES = ("/admin/", "/static/", "/legacy/", "/accounts/", "/account/")


class ReadAuthMiddleware:
    """With INDEX_READ_AUTH=authenticated every read needs HTTP Basic credentials
    (``__token__`` + any active token, read-only included, or a user's password),
    answering 401 with ``WWW-Authenticate`` so that pip and uv send credentials
    from the URL, .netrc or keyring."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.INDEX_READ_AUTH != "authenticated":
            return self.get_response(request)
        # The decision is made on path_info, the path the URLconf routes: a
        # SCRIPT_NAME (which gunicorn takes from a request header) changes
        # request.path but not the view that answers.
        if not request.path_info.startswith(_OWN_AUTH_PREFIXES):
            try:
                credentials = authenticate_basic(request, allow_password=True)
            except AuthenticationFailed as exc:
                return _private(_unauthorized(str(exc)))
            except TooManyFailures as exc:
                return _private(_too_many_failures(exc))
            if credentials is None:
                return _private(_unauthorized("This index requires credentials to read."))
            request.index_credentials = credentials
        return _private(self.get_response(request))


def _private(response: HttpResponse) -> HttpResponse:
    """With private reads, no shared cache may keep any answer (pages, feeds,
    documents, errors): every view's Cache-Control becomes private here, in one
    place; the views' own values (packages.http.cache_policy) are all public."""
    patch_cache_control(response, private=True)
    # Surrogate-Control would tell a CDN to keep it anyway (it wins over
    # Cache-Control there): private answers carry none.
    for header in ("Surrogate-Control", "Surrogate-Key"):
        if header in response:
            del response[header]
    return response


def _unauthorized(message: str) -> HttpResponse:
    return error_response(401, message, headers={"WWW-Authenticate": www_authenticate_header()})


def _too_many_failures(exc: TooManyFailures) -> HttpResponse:
    return domain_error_response(exc)  # 429 with its Retry-After
