"""The simple API's hot path: project pages answered before the session, CSRF,
authentication and messages middleware, which these pages never use (they read
no cookie and set none). Installed right after ReadAuthMiddleware (see the
block in settings.py), so the consumer policy, security headers and private
reads still apply; everything else goes through the normal chain."""

from legacy import simple

_PREFIX = "/simple/"


class SimplePagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(_PREFIX) and request.method in ("GET", "HEAD"):
            name = path[len(_PREFIX) : -1]
            if path[-1] == "/" and name and "/" not in name:
                return simple.detail(request, name)
        return self.get_response(request)
