"""The consumer policy in front of every API (simple, JSON, feeds, uploads,
XML-RPC): a prohibited consumer is answered before any view runs."""

import re
import xmlrpc.client

from django.http import HttpResponse

from packages.consumers import Ban, prohibition_for

# The admin (and its assets) stay reachable, so that an admin who banned their
# own address or browser can always lift the ban.
EXEMPT_PREFIXES = ("/admin/", "/static/")
XMLRPC_PATHS = ("/pypi", "/pypi/", "/RPC2", "/RPC2/")
FAULT_CODE = -32500  # Warehouse's code for its own errors (xmlrpc-api.md §2)


def prohibition_message(ban: Ban) -> str:
    message = f"Your client has been prohibited from using this index: {ban.reason}"
    if ban.ends is not None:
        message += f" (until {ban.ends.strftime('%Y-%m-%d %H:%M:%S %Z')})"
    return message


def _reason_phrase(ban: Ban) -> str:
    # pip and twine print the status line's reason phrase, so it names the reason
    # too; it must stay one line of printable ASCII.
    reason = re.sub(r"[^\x20-\x7e]+", " ", ban.reason).strip()
    return f"Forbidden: {reason}"[:200] if reason else "Forbidden"


def refuse(request, ban: Ban) -> HttpResponse:
    message = prohibition_message(ban)
    if request.method == "POST" and request.path_info in XMLRPC_PATHS:
        # XML-RPC clients only understand a Fault in an HTTP 200 answer.
        body = xmlrpc.client.dumps(
            xmlrpc.client.Fault(FAULT_CODE, f"HTTPForbidden: {message}"), methodresponse=True
        )
        return HttpResponse(body, content_type="text/xml; charset=UTF-8")
    response = HttpResponse(message + "\n", status=403, content_type="text/plain; charset=utf-8")
    response.reason_phrase = _reason_phrase(ban)
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
