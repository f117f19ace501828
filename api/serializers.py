"""PyPI's JSON API documents as DRF serializers.

The declared fields describe the wire format (they feed the OpenAPI document);
``to_representation`` is written out by hand because PyPI's conventions are not
DRF's: ``""`` stored in the database becomes ``null`` for some keys and stays
``""`` for others, empty lists become ``null``, one key is hyphenated
(``core-metadata``), dates have two fixed formats, and a project with 10,000
files must serialize in well under a second.

Inputs are plain rows (dicts from ``QuerySet.values()``), so serializing never
touches the database.
"""

from datetime import UTC, datetime

import trove_classifiers
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Trove classifiers are shown in the order of the trove list, not upload order.
_CLASSIFIER_ORDER = {name: index for index, name in enumerate(trove_classifiers.sorted_classifiers)}

FROZEN_DOWNLOADS = {"last_day": -1, "last_month": -1, "last_week": -1}


def _or_null(value):
    """Empty string or empty list -> null (PyPI stores absent metadata as NULL)."""
    return value if value else None


def sorted_classifiers(classifiers: list[str]) -> list[str]:
    known = len(_CLASSIFIER_ORDER)
    return sorted(classifiers, key=lambda c: (_CLASSIFIER_ORDER.get(c, known), c))


def _url_label(label: str) -> str:
    """PEP 753 label normalisation: no punctuation or whitespace, lower case."""
    return "".join(ch for ch in label if ch.isalnum()).lower()


def project_urls(release) -> dict[str, str] | None:
    """``Homepage`` and ``Download`` from the legacy fields, then every
    ``Project-URL``; a Project-URL repeating one of the first two is dropped."""
    urls: dict[str, str] = {}
    if release.home_page:
        urls["Homepage"] = release.home_page
    if release.download_url:
        urls["Download"] = release.download_url
    legacy = {"homepage": release.home_page, "download": release.download_url}
    for entry in release.project_urls or []:
        label, _, url = str(entry).partition(",")
        label, url = label.strip(), url.strip()
        if not label or not url:
            continue
        if legacy.get(_url_label(label)) == url:
            continue
        urls[label] = url
    return urls or None


def format_upload_time(moment: datetime) -> tuple[str, str]:
    """(``upload_time``, ``upload_time_iso_8601``) of an aware or UTC-naive datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S"), moment.isoformat() + "Z"


@extend_schema_field(
    {
        "oneOf": [
            {"type": "boolean", "enum": [False]},
            {
                "type": "object",
                "properties": {"sha256": {"type": "string"}},
                "required": ["sha256"],
            },
        ],
        "description": "PEP 658 metadata hashes, or false when the file has none.",
    }
)
class CoreMetadataField(serializers.Field):
    pass


class DigestsSerializer(serializers.Serializer):
    blake2b_256 = serializers.CharField()
    md5 = serializers.CharField()
    sha256 = serializers.CharField()


class FileSerializer(serializers.Serializer):
    """A distribution file (sdist or wheel) of a release."""

    # The instance is a row with the File columns and the release's ``yanked``,
    # ``yanked_reason`` and ``requires_python`` under ``release__...``;
    # ``context["file_url"]`` maps a storage path to its URL.

    comment_text = serializers.CharField(allow_null=True)
    digests = DigestsSerializer()
    downloads = serializers.IntegerField(help_text="Always -1 (deprecated).")
    filename = serializers.CharField()
    has_sig = serializers.BooleanField(help_text="Always false (deprecated).")
    md5_digest = serializers.CharField()
    packagetype = serializers.CharField()
    python_version = serializers.CharField()
    requires_python = serializers.CharField(allow_null=True)
    size = serializers.IntegerField()
    upload_time = serializers.CharField(help_text="UTC, YYYY-MM-DDTHH:MM:SS")
    upload_time_iso_8601 = serializers.CharField()
    url = serializers.CharField()
    yanked = serializers.BooleanField()
    yanked_reason = serializers.CharField(allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["core-metadata"] = CoreMetadataField()
        return fields

    def to_representation(self, row):
        upload_time, upload_time_iso = format_upload_time(row["upload_time"])
        return {
            "comment_text": row["comment_text"] or None,
            "core-metadata": (
                {"sha256": row["metadata_sha256"]} if row["metadata_sha256"] else False
            ),
            "digests": {
                "blake2b_256": row["blake2_256_digest"],
                "md5": row["md5_digest"],
                "sha256": row["sha256_digest"],
            },
            "downloads": -1,
            "filename": row["filename"],
            "has_sig": False,
            "md5_digest": row["md5_digest"],
            "packagetype": row["packagetype"],
            "python_version": row["python_version"],
            "requires_python": row["release__requires_python"] or None,
            "size": row["size"],
            "upload_time": upload_time,
            "upload_time_iso_8601": upload_time_iso,
            "url": self.context["file_url"](row["path"]),
            "yanked": row["release__yanked"],
            "yanked_reason": row["release__yanked_reason"] or None,
        }


class DownloadsSerializer(serializers.Serializer):
    last_day = serializers.IntegerField()
    last_month = serializers.IntegerField()
    last_week = serializers.IntegerField()


class InfoSerializer(serializers.Serializer):
    """Core metadata of the release, with PyPI's names and null conventions."""

    # The instance is a Release with its project loaded; ``context["base_url"]``
    # is the index's public origin.

    author = serializers.CharField(allow_null=True)
    author_email = serializers.CharField(allow_null=True)
    bugtrack_url = serializers.CharField(allow_null=True, help_text="Always null.")
    classifiers = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField(allow_blank=True)
    description_content_type = serializers.CharField(allow_null=True)
    docs_url = serializers.CharField(allow_null=True)
    download_url = serializers.CharField(allow_null=True)
    downloads = DownloadsSerializer(help_text="Always -1 counts (deprecated).")
    dynamic = serializers.ListField(child=serializers.CharField(), allow_null=True)
    home_page = serializers.CharField(allow_null=True)
    keywords = serializers.CharField(allow_null=True)
    license = serializers.CharField(allow_null=True)
    license_expression = serializers.CharField(allow_null=True)
    license_files = serializers.ListField(child=serializers.CharField(), allow_null=True)
    maintainer = serializers.CharField(allow_null=True)
    maintainer_email = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    package_url = serializers.CharField()
    platform = serializers.CharField(allow_null=True)
    project_url = serializers.CharField()
    project_urls = serializers.DictField(child=serializers.CharField(), allow_null=True)
    provides_extra = serializers.ListField(child=serializers.CharField(), allow_null=True)
    release_url = serializers.CharField()
    requires_dist = serializers.ListField(child=serializers.CharField(), allow_null=True)
    requires_python = serializers.CharField(allow_null=True)
    summary = serializers.CharField(allow_null=True)
    version = serializers.CharField()
    yanked = serializers.BooleanField()
    yanked_reason = serializers.CharField(allow_null=True)

    def to_representation(self, release):
        project = release.project
        base_url = self.context["base_url"]
        project_page = f"{base_url}/project/{project.name}/"
        return {
            "author": _or_null(release.author),
            "author_email": _or_null(release.author_email),
            "bugtrack_url": None,
            "classifiers": sorted_classifiers(list(release.classifiers or [])),
            "description": release.description or "",
            "description_content_type": _or_null(release.description_content_type),
            "docs_url": None,
            "download_url": _or_null(release.download_url),
            "downloads": dict(FROZEN_DOWNLOADS),
            "dynamic": _or_null(list(release.dynamic or [])),
            "home_page": _or_null(release.home_page),
            "keywords": _or_null(release.keywords),
            "license": _or_null(release.license),
            "license_expression": _or_null(release.license_expression),
            "license_files": _or_null(list(release.license_files or [])),
            "maintainer": _or_null(release.maintainer),
            "maintainer_email": _or_null(release.maintainer_email),
            "name": project.name,
            "package_url": project_page,
            "platform": (release.platforms or [None])[0] or None,
            "project_url": project_page,
            "project_urls": project_urls(release),
            "provides_extra": _or_null(list(release.provides_extra or [])),
            "release_url": f"{project_page}{release.version}/",
            "requires_dist": _or_null(list(release.requires_dist or [])),
            "requires_python": _or_null(release.requires_python),
            "summary": _or_null(release.summary),
            "version": release.version,
            "yanked": release.yanked,
            "yanked_reason": _or_null(release.yanked_reason),
        }


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["Owner", "Maintainer"])
    user = serializers.CharField()


class OwnershipSerializer(serializers.Serializer):
    """Who holds a role on the project. ``roles``: the users holding one
    directly, owners first, then by user name. ``organization``: the team (a
    group) holding a role, the nearest thing this index has to PyPI's
    organizations (on PyPI an organization's project names it here, and the
    roles its teams grant are not listed under ``roles`` either); the owning
    team first, then by name, when several do; null when no team does."""

    # The instance is a list of (role name, username or None, team name or None).

    organization = serializers.CharField(
        allow_null=True, help_text="The team holding a role on the project (owners first)."
    )
    roles = RoleSerializer(many=True)

    def to_representation(self, roles):
        users = sorted(
            ((role, user) for role, user, _ in roles if user is not None),
            key=lambda pair: (pair[0] != "Owner", pair[1]),
        )
        teams = sorted(
            (role != "Owner", team) for role, user, team in roles if user is None and team
        )
        return {
            "organization": teams[0][1] if teams else None,
            "roles": [{"role": role, "user": user} for role, user in users],
        }


class VulnerabilitySerializer(serializers.Serializer):
    aliases = serializers.ListField(child=serializers.CharField())
    details = serializers.CharField(allow_null=True)
    fixed_in = serializers.ListField(child=serializers.CharField())
    id = serializers.CharField()
    link = serializers.CharField(allow_null=True)
    source = serializers.CharField()
    summary = serializers.CharField(allow_null=True)
    withdrawn = serializers.CharField(allow_null=True)


class ReleaseDocumentSerializer(serializers.Serializer):
    """One release: its metadata (``info``) and its files (``urls``)."""

    # The instance is a dict with ``release``, ``last_serial``, ``roles`` and
    # ``files`` (rows of that release's files).

    info = InfoSerializer()
    last_serial = serializers.IntegerField()
    ownership = OwnershipSerializer()
    urls = FileSerializer(many=True)
    vulnerabilities = VulnerabilitySerializer(many=True)

    def to_representation(self, document):
        file_serializer = FileSerializer(context=self.context)
        return {
            "info": InfoSerializer(context=self.context).to_representation(document["release"]),
            "last_serial": document["last_serial"],
            "ownership": OwnershipSerializer().to_representation(document["roles"]),
            "urls": [file_serializer.to_representation(row) for row in document["files"]],
            "vulnerabilities": [],
        }


class ProjectDocumentSerializer(ReleaseDocumentSerializer):
    """A project: its latest release as for one release, plus every release's files."""

    # As a release document for the latest release; the instance also has
    # ``versions`` (release id -> version, files or not) and ``files`` holds the
    # files of every release.

    releases = serializers.DictField(
        child=serializers.ListField(child=FileSerializer()),
        help_text="Every version (yanked included) to its files; deprecated, kept for mirrors.",
    )

    def to_representation(self, document):
        file_serializer = FileSerializer(context=self.context)
        latest_id = document["release"].pk
        releases: dict[str, list] = {version: [] for version in document["versions"].values()}
        urls = []
        for row in document["files"]:
            data = file_serializer.to_representation(row)
            releases[document["versions"][row["release_id"]]].append(data)
            if row["release_id"] == latest_id:
                urls.append(data)
        return {
            "info": InfoSerializer(context=self.context).to_representation(document["release"]),
            "last_serial": document["last_serial"],
            "ownership": OwnershipSerializer().to_representation(document["roles"]),
            "releases": releases,
            "urls": urls,
            "vulnerabilities": [],
        }


class NotFoundSerializer(serializers.Serializer):
    message = serializers.CharField()


# --- documents of kept upstream projects ------------------------------------------


def _upstream_file(file, base_url: str) -> dict:
    """A PageFile as PyPI's file entry: only what the upstream's page said (its
    sha256; no md5 or blake2 is known), the URL this index serves it at."""
    upload_time, upload_time_iso = (
        format_upload_time(file.upload_time) if file.upload_time else (None, None))
    wheel = file.filename.endswith(".whl")
    return {
        "comment_text": None,
        "core-metadata": {"sha256": file.metadata_sha256} if file.metadata_sha256 else False,
        "digests": {"sha256": file.sha256},
        "downloads": -1,
        "filename": file.filename,
        "has_sig": False,
        "md5_digest": None,
        "packagetype": "bdist_wheel" if wheel else "sdist",
        "python_version": file.filename.split("-")[-3] if wheel else "source",
        "requires_python": file.requires_python or None,
        "size": file.size,
        "upload_time": upload_time,
        "upload_time_iso_8601": upload_time_iso,
        "url": base_url + file.url_path,
        "yanked": file.yanked,
        "yanked_reason": file.yanked_reason or None,
    }


def upstream_document(page, version: str, *, base_url: str, project: bool) -> dict:
    """``/pypi/<name>[/<version>]/json`` of a kept upstream project, from its
    filtered page (``packages.upstream.filters.UpstreamPage``): the files, their
    versions, Requires-Python and yanks; the core metadata this index does not
    keep (summary, authors, dependencies...) is null, as PyPI shows an absent field."""
    files = [f for f in page.files if f.version == version]
    project_page = f"{base_url}/project/{page.name}/"
    yanked = bool(files) and all(f.yanked for f in files)
    info = {key: None for key in (
        "author", "author_email", "bugtrack_url", "description_content_type", "docs_url",
        "download_url", "dynamic", "home_page", "keywords", "license", "license_expression",
        "license_files", "maintainer", "maintainer_email", "platform", "project_urls",
        "provides_extra", "requires_dist", "summary")}
    info.update({
        "classifiers": [], "description": "", "downloads": dict(FROZEN_DOWNLOADS),
        "name": page.name, "package_url": project_page, "project_url": project_page,
        "release_url": f"{project_page}{version}/",
        "requires_python": next((f.requires_python for f in files if f.requires_python), None),
        "version": version, "yanked": yanked,
        "yanked_reason": (files[0].yanked_reason or None) if yanked else None,
    })
    document = {
        "info": info,
        "last_serial": page.last_serial or 0,
        "ownership": {"organization": None, "roles": []},
        "urls": [_upstream_file(f, base_url) for f in files],
        "vulnerabilities": [],
    }
    if project:
        document["releases"] = {
            v: [_upstream_file(f, base_url) for f in page.files if f.version == v]
            for v in page.versions
        }
    return document
