"""The consumer policy in front of every API (simple, JSON, feeds, uploads,
XML-RPC): a prohibited consumer is answered before any view runs."""

from django.http import HttpResponse

from packages.access.bans import Ban, prohibition_for
from packages.http.errors import error_response
from packages.http.hot_path import resolve_view

# The admin (and its assets) stay reachable, so that an admin who banned their
# own address or browser can always lift the ban.
EXEMPT_PREFIXES = ("/admin/", "/static/")


def prohibition_message(ban: Ban) -> str:
    message = f"Your client has been prohibited from using this index: {ban.reason}"
    if ban.ends is not None:
        message += f" (until {ban.ends.strftime('%Y-%m-%d %H:%M:%S %Z')})"
    return message


def refuse(request, ban: Ban) -> HttpResponse:
    """403 naming the reason, unless the view that would have answered speaks a
    protocol of its own: a view carrying ``refusal_response(request, message)``
    (XML-RPC: a Fault in an HTTP 200) words the refusal, or returns None."""
    message = prohibition_message(ban)
    match = resolve_view(request)
    own_refusal = getattr(match.func, "refusal_response", None) if match is not None else None
    response = own_refusal(request, message) if own_refusal is not None else None
    if response is None:
        # pip and twine print the status line, so it names the reason too, briefly.
        response = error_response(403, message, reason=f"Forbidden: {ban.reason}"[:200])
    return response


class ConsumerPolicyMiddleware:
    """Answers prohibited consumers with 403 (XML-RPC: a Fault) naming the reason."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # path_info, not path: the URLconf routes on it, whatever SCRIPT_NAME says.
        path = request.path_info
        if path != "/admin" and not path.startswith(EXEMPT_PREFIXES):
            ban = prohibition_for(request)
            if ban is not None:
                return refuse(request, ban)
        return self.get_response(request)
