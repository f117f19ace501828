"""twine's upload form (POST /legacy/, :action=file_upload) as a Django form, as
Warehouse has its ``UploadForm``.

The form answers what HTTP leaves open: which parts were sent, which are sent once
and which repeat, and the format of the values that are not metadata. It hands
typed values (``packages.uploads.operation.UploadRequest``) to ``accept_upload``, where the
meaning of the metadata, filenames, duplicates, projects and permissions are
decided. Like PyPI it answers one problem, in the words PyPI uses (twine prints
them): the first one in the order the fields are declared below."""

import json
import re

from django import forms
from django.core.exceptions import ValidationError

from packages.models import File, PackageType
from packages.uploads.operation import UploadedContent, UploadRequest

# Parts that are files by nature; any other field sent as a file part is refused.
FILE_PARTS = {"content", "gpg_signature"}
_DIGESTS = (
    ("md5_digest", re.compile(r"^[0-9a-f]{32}$", re.IGNORECASE), "MD5"),
    ("sha256_digest", re.compile(r"^[0-9a-f]{64}$", re.IGNORECASE), "SHA256"),
    ("blake2_256_digest", re.compile(r"^[0-9a-f]{64}$", re.IGNORECASE), "BLAKE2b-256"),
)
_MAX_PYVERSION_LENGTH = File._meta.get_field("python_version").max_length
# The core metadata as twine sends it. Sent once, named as in packaging's
# RawMetadata (in the order their problems are answered):
METADATA_FIELDS = (
    "metadata_version", "name", "version", "summary", "description",
    "description_content_type", "keywords", "home_page", "download_url", "author",
    "author_email", "maintainer", "maintainer_email", "license", "license_expression",
    "requires_python",
)
# Repeated, one value per part: form key -> RawMetadata key (twine sends some in
# the singular).
REPEATED_METADATA_FIELDS = {
    "classifiers": "classifiers",
    "platform": "platforms",
    "supported_platform": "supported_platforms",
    "requires_dist": "requires_dist",
    "provides_dist": "provides_dist",
    "obsoletes_dist": "obsoletes_dist",
    "requires_external": "requires_external",
    "provides_extra": "provides_extra",
    "requires": "requires",
    "provides": "provides",
    "obsoletes": "obsoletes",
    "dynamic": "dynamic",
    "license_file": "license_files",
    "import_name": "import_names",
    "import_namespace": "import_namespaces",
    "project_urls": "project_urls",
}


def _one(key: str, values: list[str]) -> str:
    """A field sent once, stripped: empty parts do not count, two values are refused."""
    values = [value.strip() for value in _without_nul(values) if value.strip()]
    if len(values) > 1:
        raise ValidationError(f"'{key}' has invalid data.")
    return values[0] if values else ""


def _without_nul(values: list[str]) -> list[str]:
    """NUL becomes the text \\x00 (as PyPI: a database text column cannot hold it)."""
    return [value.replace("\x00", "\\x00") for value in values]


def _metadata_values(values: list[str]) -> list[str]:
    """PyPI: an empty value is absent and UNKNOWN (distutils' filler) is deleted."""
    return [value for value in _without_nul(values) if value.strip() not in ("", "UNKNOWN")]


# Widgets: where a field's value is in the request.


class _AllValues(forms.Widget):
    """Every value sent under the field's key, with the key (refusals name it)."""

    def value_from_datadict(self, data, files, name):
        return name, data.getlist(name)


class _Action(forms.Widget):
    def value_from_datadict(self, data, files, name):
        return data.get(":action")


class _FileParts(forms.Widget):
    def value_from_datadict(self, data, files, name):
        return files


class _Digests(forms.Widget):
    def value_from_datadict(self, data, files, name):
        return [(key, data.getlist(key)) for key, _pattern, _label in _DIGESTS]


class _Fields(forms.Widget):
    def value_from_datadict(self, data, files, name):
        return data


# Fields


class _Field(forms.Field):
    """Absence is never Django's "This field is required.": each field says what
    is missing in its own words, or the domain does."""

    def __init__(self):
        super().__init__(required=False)

    def __deepcopy__(self, memo):
        # Nothing changes a field per form, so all forms share it: Django's copy of
        # every field for every form would double what the form costs an upload.
        return self


class ActionField(_Field):
    widget = _Action

    def clean(self, action):
        if action in ("submit", "submit_pkg_info"):
            raise ValidationError(
                "Project pre-registration is no longer required or supported, upload your "
                "files instead.", code="gone",
            )
        if action == "doc_upload":
            raise ValidationError(
                "Uploading documentation is no longer supported, we recommend using "
                "https://readthedocs.org/.", code="gone",
            )
        if action is None:
            raise ValidationError(
                "Missing :action: upload a distribution with a multipart/form-data form "
                "holding :action=file_upload, as twine and uv publish send it."
            )
        if action != "file_upload":
            raise ValidationError(
                f"Unknown :action {action[:100]!r}: this endpoint accepts only "
                ":action=file_upload (an upload as twine and uv publish send it)."
            )
        return action


class FilePartsField(_Field):
    """The distribution in 'content' (None when missing: the domain says so after
    the metadata); a field sent as a file part is refused."""

    widget = _FileParts

    def clean(self, files) -> UploadedContent | None:
        for key in files:
            if key not in FILE_PARTS:
                raise ValidationError(f"{key}: Should not be a tuple.")
        uploaded = files.get("content")
        if uploaded is None:
            return None
        return UploadedContent(
            filename=uploaded.raw_name,
            file=uploaded.file,
            content_type=uploaded.content_type or "",
            digests=uploaded.digests,
        )


class OneValueField(_Field):
    """A field sent at most once; "" when absent."""

    widget = _AllValues

    def clean(self, sent) -> str:
        key, values = sent
        return _one(key, values)


class DigestsField(_Field):
    """md5_digest, sha256_digest, blake2_256_digest: each sent at most once,
    hex-encoded, at least one of them. Lowercased."""

    widget = _Digests

    def clean(self, sent) -> dict[str, str]:
        digests = {key: _one(key, values).lower() for key, values in sent}
        for key, pattern, label in _DIGESTS:
            if digests[key] and not pattern.match(digests[key]):
                raise ValidationError(
                    f"Invalid value for {key}. Error: Use a valid, hex-encoded, {label} "
                    "message digest."
                )
        if not any(digests.values()):
            raise ValidationError("Error: Include at least one message digest.")
        return digests


class CoreMetadataField(_Field):
    """The core-metadata fields as packaging's RawMetadata, absent ones left out:
    single fields sent at most once, repeated ones as lists, keywords split, project
    URLs as (label, url) pairs. packages.uploads.metadata judges what they mean."""

    widget = _Fields

    def clean(self, data) -> dict:
        raw: dict = {}
        for key in METADATA_FIELDS:
            values = _metadata_values(data.getlist(key))
            if len(values) > 1:
                raise ValidationError(f"'{key}' has invalid data.")
            if values:
                raw[key] = values[0]
        if "keywords" in raw:
            raw["keywords"] = [k.strip() for k in raw["keywords"].split(",") if k.strip()]
        for key, raw_key in REPEATED_METADATA_FIELDS.items():
            if values := _metadata_values(data.getlist(key)):
                raw[raw_key] = values
        if "project_urls" in raw:
            entries = (entry.partition(",") for entry in raw["project_urls"])
            raw["project_urls"] = [(label.strip(), url.strip()) for label, _, url in entries]
        return raw


class UploadForm(forms.Form):
    """Bind with the multipart fields and files (and the query string, which may
    hold :action); ``refusal()`` or ``upload_request()`` after ``is_valid()``."""

    # Order matters: the first problem in this order is the one answered.
    action = ActionField()
    content = FilePartsField()
    protocol_version = OneValueField()
    filetype = OneValueField()
    pyversion = OneValueField()
    digests = DigestsField()
    attestations = OneValueField()
    comment = OneValueField()
    metadata = CoreMetadataField()

    def __init__(self, data, files=None, *, query=None):
        # An :action in the query string is read before the form's own.
        if query is not None and query.get(":action"):
            data = data.copy()
            data[":action"] = query[":action"]
        super().__init__(data, files)

    def clean_protocol_version(self) -> str:
        if (self.cleaned_data["protocol_version"] or "1") != "1":
            raise ValidationError("Unknown protocol version.")
        return "1"

    def clean_filetype(self) -> str:
        filetype = self.cleaned_data["filetype"]
        if filetype not in PackageType.values:
            raise ValidationError("Invalid value for filetype. Error: Use a known file type.")
        return filetype

    def clean_pyversion(self) -> str:
        pyversion = self.cleaned_data["pyversion"]
        filetype = self.cleaned_data.get("filetype")
        if filetype == PackageType.WHEEL and not pyversion:
            raise ValidationError(
                "Invalid value for pyversion. Error: Python version is required for binary "
                "distribution uploads."
            )
        if len(pyversion) > _MAX_PYVERSION_LENGTH:
            raise ValidationError(
                f"Invalid value for pyversion. Error: Field cannot be longer than "
                f"{_MAX_PYVERSION_LENGTH} characters."
            )
        if filetype == PackageType.SDIST:
            if pyversion not in ("", "source"):
                raise ValidationError(
                    "Invalid value for pyversion. Error: Use 'source' as Python version for "
                    "an sdist."
                )
            return "source"
        return pyversion

    def clean_attestations(self) -> list | None:
        sent = self.cleaned_data["attestations"]
        if not sent:
            return None
        try:
            attestations = json.loads(sent, parse_constant=_no_json_constant)
            if not _storable_json(attestations):
                attestations = None
        except (ValueError, RecursionError):
            attestations = None
        if not isinstance(attestations, list):
            raise ValidationError(
                "Invalid attestations supplied during upload: expected a JSON list."
            )
        return attestations

    def refusal(self) -> tuple[int, str]:
        """(status, message) of the first problem; 410 for a retired :action."""
        error = next(iter(self.errors.as_data().values()))[0]
        return (410 if error.code == "gone" else 400), error.message

    def upload_request(self) -> UploadRequest:
        cleaned = self.cleaned_data
        return UploadRequest(
            filetype=cleaned["filetype"],
            pyversion=cleaned["pyversion"],
            metadata=cleaned["metadata"],
            comment=cleaned["comment"],
            attestations=cleaned["attestations"],
            **cleaned["digests"],
        )


def _no_json_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _storable_json(value) -> bool:
    """No NUL and no lone surrogate in any string (a JSON column refuses both)."""
    if isinstance(value, str):
        return "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, list):
        return all(_storable_json(item) for item in value)
    if isinstance(value, dict):
        return all(_storable_json(k) and _storable_json(v) for k, v in value.items())
    return True


def fields_from_metadata(raw: dict) -> dict[str, list[str]]:
    """The form twine would send for packaging's RawMetadata (importdists sends the
    metadata of a file on disk through this very form)."""
    fields: dict[str, list[str]] = {}
    for key in METADATA_FIELDS:
        if (value := raw.get(key)) is not None:
            fields[key] = [", ".join(value) if isinstance(value, list) else value]
    for key, raw_key in REPEATED_METADATA_FIELDS.items():
        if value := raw.get(raw_key):
            if isinstance(value, dict):
                value = [f"{label}, {url}" for label, url in value.items()]
            fields[key] = list(value)
    return fields
