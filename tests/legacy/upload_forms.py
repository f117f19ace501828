"""Build the multipart request twine sends, byte for byte under our control (the
Django test client would clean hostile filenames before they reach the server)."""

import base64
import hashlib
import uuid

from django.utils.datastructures import MultiValueDict

from legacy.forms import UploadForm, fields_from_metadata
from packages.models import File, Filename, Project, Release
from packages.storage import distributions_storage
from packages.uploads.metadata import raw_from_core_metadata
from tests.dists import make_sdist, make_wheel


def twine_fields(filename: str, content: bytes, metadata: str, **overrides) -> list:
    """The form fields twine 7 sends for a distribution, as (name, value) pairs;
    ``overrides`` replace fields (None removes one)."""
    form = fields_from_metadata(raw_from_core_metadata(metadata.encode()))
    is_wheel = filename.endswith(".whl")
    base = {
        ":action": ["file_upload"],
        "protocol_version": ["1"],
        "filetype": ["bdist_wheel" if is_wheel else "sdist"],
        "pyversion": [filename.split("-")[-3] if is_wheel else "source"],
        "sha256_digest": [hashlib.sha256(content).hexdigest()],
        "blake2_256_digest": [hashlib.blake2b(content, digest_size=32).hexdigest()],
        **form,
    }
    for key, value in overrides.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value if isinstance(value, list) else [value]
    return [(key, value) for key, values in base.items() for value in values]


def upload_request(filename: str, content: bytes, metadata: str, **overrides):
    """The typed request the upload form hands to accept_upload for these fields."""
    fields = MultiValueDict()
    for key, value in twine_fields(filename, content, metadata, **overrides):
        fields.appendlist(key, value)
    form = UploadForm(fields)
    assert form.is_valid(), form.refusal()
    return form.upload_request()


def encode_multipart(fields: list, files: list) -> tuple[bytes, str]:
    """(body, content type); ``files`` holds (field, filename, bytes, content type)."""
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode()
            + value.encode() + b"\r\n"
        )
    for key, filename, data, content_type in files:
        header = f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{filename}"\r\n'
        if content_type:
            header += f"Content-Type: {content_type}\r\n"
        parts.append(header.encode() + b"\r\n" + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def post_upload(client, token: str | None, filename: str, content: bytes, metadata: str, *,
                fields: list | None = None, content_type="application/octet-stream",
                path="/legacy/", **overrides):
    fields = fields if fields is not None else twine_fields(filename, content, metadata,
                                                            **overrides)
    body, ctype = encode_multipart(fields, [("content", filename, content, content_type)])
    headers = {"HTTP_AUTHORIZATION": basic("__token__", token)} if token else {}
    return client.generic("POST", path, body, content_type=ctype, **headers)


def upload_wheel(client, token, name, version, **kwargs):
    filename, content, metadata = make_wheel(name, version)
    return post_upload(client, token, filename, content, metadata, **kwargs)


def upload_sdist(client, token, name, version, **kwargs):
    filename, content = make_sdist(name, version)
    from tests.dists import core_metadata

    return post_upload(client, token, filename, content, core_metadata(name, version), **kwargs)


def stored_paths() -> list[str]:
    """Every object in distribution storage (local filesystem storage in tests)."""
    storage = distributions_storage()
    found = []

    def walk(folder):
        dirs, files = storage.listdir(folder)
        found.extend(f"{folder}/{f}".lstrip("/") for f in files)
        for d in dirs:
            walk(f"{folder}/{d}".lstrip("/"))

    if storage.exists("packages"):
        walk("packages")
    return sorted(found)


def assert_nothing_stored():
    assert stored_paths() == []
    assert not File.objects.exists()
    assert not Filename.objects.exists()
    assert not Release.objects.exists()
    assert not Project.objects.exists()
