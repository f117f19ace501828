"""POST /legacy/: the upload endpoint twine, uv publish, flit and hatch use
(PyPI's "legacy" API; wire contract in the team spec shared/spec/upload-api.md).

A thin shell: authenticate, read the multipart body, bind it to
``legacy.forms.UploadForm``, call ``packages.uploads.operation.accept_upload`` with its typed
values and answer. Refusals carry their message both
in the HTTP reason phrase (twine without --verbose prints only the status line)
and in the body (HTTP/2 has no reason phrase)."""

import html

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from legacy.forms import UploadForm
from legacy.upload_handlers import close_uploaded_files, parse_upload_body
from packages.access.basic_auth import authenticate_basic, www_authenticate_header
from packages.access.throttle import TooManyFailures
from packages.curation.tokens import TOKEN_USERNAME
from packages.errors import DomainError
from packages.http.errors import error_page
from packages.uploads.operation import accept_upload

_ALLOW = "GET, HEAD, OPTIONS, POST"


def _info_page() -> HttpResponse:
    return HttpResponse(
        "<html><head><title>Upload</title></head><body><h1>Upload endpoint</h1>"
        "<p>Upload distributions here with <code>twine upload --repository-url "
        f"{html.escape(settings.INDEX_BASE_URL)}/legacy/ dist/*</code>.</p></body></html>\n",
        content_type="text/html; charset=utf-8",
    )


def _allow(response: HttpResponse) -> HttpResponse:
    response["Allow"] = _ALLOW
    return response


@csrf_exempt
def upload(request):
    # Only a stored upload and the information page answer 200: a client must
    # never take a request that did nothing for a successful upload.
    if request.method in ("GET", "HEAD"):
        return _info_page()
    if request.method == "OPTIONS":
        return _allow(HttpResponse())
    if request.method != "POST":
        return _allow(error_page(
            request, 405,
            f"Method Not Allowed: {request.method}. Upload with POST (a multipart/form-data "
            "form with :action=file_upload); GET shows how to upload.",
        ))
    try:
        credentials = authenticate_basic(
            request, allow_password=settings.INDEX_ALLOW_PASSWORD_UPLOAD
        )
    except DomainError as exc:
        response = error_page(request, exc.status, exc.message)
        if isinstance(exc, TooManyFailures):
            response["Retry-After"] = str(exc.retry_after)
        return response
    if credentials is None:
        response = error_page(
            request, 401,
            f"Invalid or non-existent authentication information: upload with the username "
            f"{TOKEN_USERNAME} and an API token as the password.",
        )
        response["WWW-Authenticate"] = www_authenticate_header()
        return response

    if not request.META.get("CONTENT_LENGTH") and request.headers.get("Transfer-Encoding"):
        # Django reads a body only as far as its Content-Length: a chunked body would
        # look empty and be answered with the information page, a silent "success".
        return error_page(
            request, 411,
            "Length Required: send the upload with a Content-Length header (chunked "
            "request bodies are not supported).",
        )
    files = None
    try:
        try:
            fields, files = parse_upload_body(request)
        except DomainError as exc:  # too large, or not a multipart/form-data form
            return error_page(request, exc.status, exc.message)
        except (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent,
                TooManyFilesSent) as exc:
            return error_page(
                request, 400,
                f"Invalid multipart/form-data request body: {str(exc).rstrip('.')}.",
            )
        form = UploadForm(fields, files, query=request.GET)
        if not form.is_valid():
            return error_page(request, *form.refusal())
        try:
            accept_upload(
                upload=form.upload_request(), content=form.cleaned_data["content"],
                uploader=credentials.user, token=credentials.token,
            )
        except DomainError as exc:
            return error_page(request, exc.status, exc.message)
        return error_page(request, 200, "OK")
    finally:
        if files is not None:
            close_uploaded_files(files)
