"""Reading the upload's multipart body: to a temporary file on disk, hashed as it
arrives, and cut off as soon as it is too large.

The request is refused before its body is read when its Content-Length already
exceeds the limit, and while streaming as soon as the file part passes it; the
rest of the body is never read (``UploadTooLarge`` propagates out of the parser
without draining the input)."""

import os

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http.multipartparser import MultiPartParser

from packages.errors import UploadRejected
from packages.storage import HashingReader
from packages.uploads.operation import max_upload_size_ceiling

# Besides the file, a request carries the metadata fields (Django caps those at
# DATA_UPLOAD_MAX_MEMORY_SIZE) and the multipart framing.
_FRAMING_ALLOWANCE = 64 * 1024
# File parts other than the distribution (a legacy .asc signature) are small.
MAX_OTHER_FILE_PART = 1024 * 1024


class UploadTooLarge(UploadRejected):
    pass


def _too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(
        f"File too large. Limit for uploads to this index is {limit // (1024 * 1024)} MB."
    )


class LimitedHashingUploadHandler(FileUploadHandler):
    """Streams each file part to a temporary file, hashing it (md5, sha256,
    blake2b-256) and counting bytes; refuses past ``max_size``."""

    def __init__(self, request=None, *, max_size: int):
        super().__init__(request)
        self.max_size = max_size
        self.limit = max_size
        self.hasher = None

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        allowance = (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) + _FRAMING_ALLOWANCE
        if content_length > self.max_size + allowance:
            raise _too_large(self.max_size)
        return None

    def new_file(self, field_name, file_name, content_type, content_length, charset=None,
                 content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset,
                         content_type_extra)
        self.limit = self.max_size if field_name == "content" else MAX_OTHER_FILE_PART
        # The temporary file's own name is fixed: the client's name may hold anything
        # (it is checked by the domain, never used as a path).
        self.file = TemporaryUploadedFile(
            "upload", content_type, 0, charset, content_type_extra
        )
        self.file.raw_name = file_name
        self.hasher = HashingReader(None)

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.upload_interrupted()
            raise _too_large(self.limit)
        self.hasher.update(raw_data)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.file.seek(0)
        self.file.size = file_size
        self.file.digests = self.hasher.digests()
        return self.file

    def upload_interrupted(self):
        if getattr(self, "file", None) is not None:
            path = self.file.temporary_file_path()
            self.file.close()
            try:
                os.remove(path)
            except FileNotFoundError:
                pass


class _BoundaryWatch:
    """Passes the body through to the parser, noting whether the boundary
    delimiter occurs in it: Django parses a body written with another boundary as
    one part (its first header lines, then everything else as the value)."""

    def __init__(self, stream, boundary: bytes):
        self._stream = stream
        self._delimiter = b"--" + boundary
        self._tail = b""
        self.seen = False

    def read(self, size=-1):
        data = self._stream.read(size)
        if not self.seen:
            window = self._tail + data
            self.seen = self._delimiter in window
            self._tail = window[-len(self._delimiter) :]
        return data


class RawNameMultiPartParser(MultiPartParser):
    """Django's parser, but the client's filename is kept as sent: Django would
    silently drop directory parts and control characters, where an index must
    refuse such a name (PyPI does) rather than store it under another name."""

    def sanitize_file_name(self, file_name):
        return file_name or None


def parse_upload_body(request):
    """(fields, files) of a multipart upload; raises UploadTooLarge, UploadRejected
    when the body is not a multipart/form-data form that can be read, or
    MultiPartParserError / RequestDataTooBig / TooManyFieldsSent on a bad body."""
    if request.content_type != "multipart/form-data":
        received = request.META.get("CONTENT_TYPE")
        raise UploadRejected(
            "Expected a multipart/form-data upload (a form with :action=file_upload and the "
            "file in 'content'); the request's Content-Type is "
            f"{repr(received) if received else 'none'}."
        )
    handler = LimitedHashingUploadHandler(request, max_size=max_upload_size_ceiling())
    body = _BoundaryWatch(request, request.content_params.get("boundary", "").encode())
    parser = RawNameMultiPartParser(request.META, body, [handler], request.encoding)
    fields, files = parser.parse()
    # Django skips what it cannot read (parts without a field name, a body without
    # the boundary) and returns an empty form rather than an error.
    if not body.seen or not (fields or files):
        close_uploaded_files(files)
        raise UploadRejected(
            "The multipart/form-data body holds no form field that could be read (check "
            "its boundary and part headers): an upload is a multipart/form-data form with "
            ":action=file_upload, the metadata fields and the file in 'content'."
        )
    return fields, files


def close_uploaded_files(files) -> None:
    """Close (and so delete) the temporary files of the file parts."""
    for _key, parts in files.lists():
        for part in parts:
            part.close()
