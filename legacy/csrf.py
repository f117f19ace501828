"""The CSRF failure view (``CSRF_FAILURE_VIEW``).

Only the browser forms (the admin, log in, tokens and roles) use CSRF tokens. Any other POST that fails the check is
a client posting to the wrong URL, most often twine or uv publish given the index
root or ``/simple/`` instead of ``/legacy/``: Django's bare "403 Forbidden" sends
its user hunting for a token problem, so the answer names the upload URL, in the
reason phrase that twine prints and in the body."""

from django.conf import settings
from django.views.csrf import csrf_failure as django_csrf_failure

from packages.http.errors import error_response

# Paths of the browser forms, which keep Django's page (it explains cookies and tokens).
_BROWSER_FORMS = ("/admin/", "/accounts/", "/account/")


def csrf_failure(request, reason=""):
    # path_info is what the URLconf routed (SCRIPT_NAME may come from a header).
    if request.path_info.startswith(_BROWSER_FORMS):
        return django_csrf_failure(request, reason=reason)
    message = (
        "This URL does not accept uploads or other POST requests. Upload with twine "
        f"(--repository-url) or uv publish (--publish-url) to {settings.INDEX_BASE_URL}/legacy/"
    )
    return error_response(403, message)
