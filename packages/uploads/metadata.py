"""Core metadata of an upload (as twine's form sends it, read by legacy.forms, or
from a distribution's METADATA/PKG-INFO), validated with ``packaging.metadata``
plus the rules PyPI adds on top, and normalized as PyPI stores it.

https://packaging.python.org/specifications/core-metadata/"""

import re
from dataclasses import dataclass, field
from email.utils import getaddresses
from urllib.parse import urlsplit

import trove_classifiers
from packaging.metadata import ExceptionGroup, InvalidMetadata, Metadata, parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet

from packages.errors import UploadRejected
from packages.models import Project, Release

SPEC_URL = "https://packaging.python.org/specifications/core-metadata"
VERSION_SPEC_URL = "https://packaging.python.org/specifications/version-specifiers"
# The versions PyPI accepts ("2.0" was never a real version).
METADATA_VERSIONS = {"1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5"}
MAX_SUMMARY_LENGTH = 512
MAX_URL_LABEL_LENGTH = 32
# "Private :: Do Not Upload" and the like are in no trove list: they exist so that
# PyPI refuses the package, which is then published to a private index like this one.
PRIVATE_CLASSIFIER_PREFIX = "Private ::"

_FIELD_PRIORITY = ("metadata-version", "name", "version")
# Lengths of the columns these values are stored in (as normalized).
_MAX_LENGTHS = {
    "name": Project._meta.get_field("name").max_length,
    "version": Release._meta.get_field("version").max_length,
    "description_content_type": Release._meta.get_field("description_content_type").max_length,
    "requires_python": Release._meta.get_field("requires_python").max_length,
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class UploadMetadata:
    """Validated metadata, values in the form they are stored in (PyPI's)."""

    metadata_version: str
    name: str
    version: str  # str(Version(...)): "1.0.0-rc1" -> "1.0.0rc1"
    summary: str = ""
    description: str = ""
    description_content_type: str = ""
    keywords: str = ""
    home_page: str = ""
    download_url: str = ""
    author: str = ""
    author_email: str = ""
    maintainer: str = ""
    maintainer_email: str = ""
    license: str = ""
    license_expression: str = ""
    license_files: list[str] = field(default_factory=list)
    requires_python: str = ""
    requires_dist: list[str] = field(default_factory=list)
    provides_extra: list[str] = field(default_factory=list)
    requires_external: list[str] = field(default_factory=list)
    provides_dist: list[str] = field(default_factory=list)
    obsoletes_dist: list[str] = field(default_factory=list)
    classifiers: list[str] = field(default_factory=list)
    project_urls: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    supported_platforms: list[str] = field(default_factory=list)
    dynamic: list[str] = field(default_factory=list)

    def release_fields(self) -> dict:
        """Keyword arguments for a new Release row."""
        values = dict(self.__dict__)
        values.pop("name")
        return values


def _reject(message: str, *, url: str = SPEC_URL):
    raise UploadRejected(f"{message} See {url} for more information.")


def raw_from_core_metadata(data: bytes) -> dict:
    """packaging's RawMetadata from a METADATA / PKG-INFO file (importdists)."""
    raw, _unparsed = parse_email(data)
    return dict(raw)


def _project_urls(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Each (label, url) as sent checked in turn; a repeated label keeps its last url."""
    urls: dict[str, str] = {}
    for label, url in pairs:
        if not label:
            _reject("Must have a label.")
        if len(label) > MAX_URL_LABEL_LENGTH:
            _reject(f"'{label}' must be {MAX_URL_LABEL_LENGTH} characters or less.")
        if not url:
            _reject("Must have a URL.")
        if not _is_valid_url(url):
            _reject(f"'{url}' is not a valid url.")
        urls[label] = url
    return urls


def _is_valid_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _first_error(group: ExceptionGroup) -> InvalidMetadata:
    errors = [e for e in group.exceptions if isinstance(e, InvalidMetadata)]

    def rank(error):
        name = error.field
        return (
            _FIELD_PRIORITY.index(name) if name in _FIELD_PRIORITY else len(_FIELD_PRIORITY),
            name,
        )

    return sorted(errors, key=rank)[0]


def check_metadata(raw: dict) -> UploadMetadata:
    """Validate raw core metadata (packaging's RawMetadata, ``project_urls`` as
    (label, url) pairs); raise UploadRejected with the first problem (project URLs,
    then metadata-version, name and version, then fields alphabetically)."""
    if "project_urls" in raw:
        raw = {**raw, "project_urls": _project_urls(raw["project_urls"])}
    metadata_version = raw.get("metadata_version")
    if metadata_version is not None and metadata_version not in METADATA_VERSIONS:
        _reject(f"'{metadata_version}' is not a valid metadata version.")
    try:
        meta = Metadata.from_raw(raw, validate=True)
    except ExceptionGroup as group:
        error = _first_error(group)
        _reject(f"{str(error).rstrip('.')}.")
    except InvalidMetadata as error:
        _reject(f"{str(error).rstrip('.')}.")

    version = meta.version
    if version.local is not None:
        _reject(
            f"The use of local versions in '{raw['version']}' is not allowed.",
            url=VERSION_SPEC_URL,
        )
    summary = raw.get("summary", "")
    if len(summary) > MAX_SUMMARY_LENGTH:
        _reject(f"'summary' field must be {MAX_SUMMARY_LENGTH} characters or less.")
    # Beyond the core metadata's own rules: what the columns hold.
    for key, value in (
        ("name", raw["name"]),
        ("version", str(version)),
        ("description_content_type", raw.get("description_content_type", "")),
        ("requires_python", str(SpecifierSet(raw.get("requires_python", "")))),
    ):
        if len(value) > _MAX_LENGTHS[key]:
            _reject(
                f"'{key.replace('_', '-')}' field must be {_MAX_LENGTHS[key]} characters or less."
            )
    for key in ("author_email", "maintainer_email"):
        for _, address in getaddresses([raw.get(key, "")]):
            if address and not _EMAIL.match(address):
                _reject(f"'{address}' is not a valid email address.")
    for classifier in raw.get("classifiers", []):
        if classifier.startswith(PRIVATE_CLASSIFIER_PREFIX):
            continue
        if classifier in trove_classifiers.deprecated_classifiers:
            replacements = trove_classifiers.deprecated_classifiers[classifier]
            _reject(
                f"The classifier '{classifier}' has been deprecated, use one of "
                f"{replacements} instead."
            )
        if classifier not in trove_classifiers.classifiers:
            _reject(f"'{classifier}' is not a valid classifier.")
    for key in ("home_page", "download_url"):
        if key in raw and not _is_valid_url(raw[key]):
            _reject(f"'{raw[key]}' is not a valid url.")
    for key in ("requires_dist", "provides_dist", "obsoletes_dist"):
        for requirement in raw.get(key, []):
            try:
                parsed = Requirement(requirement)
            except InvalidRequirement:
                _reject(f"'{requirement}' is invalid for '{key.replace('_', '-')}'.")
            if parsed.url:
                _reject(f"Can't have direct dependency: {requirement}.")
    if raw.get("license") and raw.get("license_expression"):
        _reject(
            "License is deprecated when License-Expression is present. Only "
            "License-Expression should be present."
        )

    return UploadMetadata(
        metadata_version=raw["metadata_version"],
        name=raw["name"],
        version=str(version),
        summary=summary,
        description=raw.get("description", ""),
        description_content_type=raw.get("description_content_type", ""),
        keywords=", ".join(raw.get("keywords", [])),
        home_page=raw.get("home_page", ""),
        download_url=raw.get("download_url", ""),
        author=raw.get("author", ""),
        author_email=raw.get("author_email", ""),
        maintainer=raw.get("maintainer", ""),
        maintainer_email=raw.get("maintainer_email", ""),
        license=raw.get("license", ""),
        license_expression=str(meta.license_expression or ""),
        license_files=list(raw.get("license_files", [])),
        requires_python=str(SpecifierSet(raw["requires_python"]))
        if raw.get("requires_python")
        else "",
        requires_dist=list(raw.get("requires_dist", [])),
        provides_extra=list(raw.get("provides_extra", [])),
        requires_external=list(raw.get("requires_external", [])),
        provides_dist=list(raw.get("provides_dist", [])),
        obsoletes_dist=list(raw.get("obsoletes_dist", [])),
        classifiers=list(raw.get("classifiers", [])),
        project_urls=[f"{label}, {url}" for label, url in raw.get("project_urls", {}).items()],
        platforms=list(raw.get("platforms", []))[:1],
        supported_platforms=list(raw.get("supported_platforms", [])),
        dynamic=list(raw.get("dynamic", [])),
    )
