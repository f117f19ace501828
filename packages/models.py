"""The shared domain: every API app reads and writes these models, and changes
them only through the operations in this package (uploads, yanking, deletion,
roles, journal)."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from packaging.utils import canonicalize_version

from packages.names import normalize_name, ultranormalize_name
from packages.versions import is_prerelease


class ProjectStatus(models.TextChoices):
    """PEP 792 project status markers; the admin's curation states."""

    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived (no new uploads)"
    DEPRECATED = "deprecated", "Deprecated"
    QUARANTINED = "quarantined", "Quarantined (hidden, not installable)"
    # Not PEP 792: a project created under INDEX_PROJECT_CREATION=moderated waits
    # here, hidden from every API, until a curator approves it.
    PENDING = "pending", "Pending approval (hidden until a curator approves)"


# The one definition of "hidden": every read (packages.queries, xmlrpc_queries,
# feed_queries) leaves out projects in these states, and releases quarantined
# one by one (Release.quarantined).
HIDDEN_PROJECT_STATUSES = (ProjectStatus.QUARANTINED, ProjectStatus.PENDING)
# States in which a project takes no new upload ("frozen" in the admin's filter).
FROZEN_PROJECT_STATUSES = (ProjectStatus.ARCHIVED, ProjectStatus.QUARANTINED)


class Project(models.Model):
    name = models.CharField(max_length=255, help_text="As first uploaded.")
    normalized_name = models.CharField(max_length=255, unique=True, editable=False)
    # Folded name (PEP 503 plus confusables) so that look-alike names collide.
    ultranormalized_name = models.CharField(max_length=255, db_index=True, editable=False)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    # Highest journal serial concerning this project; kept by record_journal_entry().
    last_serial = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.ACTIVE
    )
    status_reason = models.TextField(blank=True, default="")
    max_file_size = models.BigIntegerField(
        null=True, blank=True, help_text="Bytes; empty = INDEX_MAX_FILE_SIZE."
    )
    max_project_size = models.BigIntegerField(
        null=True, blank=True, help_text="Bytes; empty = INDEX_MAX_PROJECT_SIZE."
    )
    total_size = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["normalized_name"]
        indexes = [
            # The admin's status filters (pending, frozen) at 700k projects.
            models.Index(fields=["status"], name="project_status_idx"),
            # The upload handler's MAX(max_file_size) on every upload reads the
            # few overrides, not every project.
            models.Index(fields=["max_file_size"], name="project_max_file_size_idx",
                         condition=models.Q(max_file_size__isnull=False)),
        ]

    def save(self, *args, **kwargs):
        self.normalized_name = normalize_name(self.name)
        self.ultranormalized_name = ultranormalize_name(self.name)
        super().save(*args, **kwargs)

    def __str__(self):
        return self.name

    @property
    def is_visible(self) -> bool:
        return self.status not in HIDDEN_PROJECT_STATUSES

    @property
    def effective_max_file_size(self) -> int:
        return self.max_file_size or settings.INDEX_MAX_FILE_SIZE

    @property
    def effective_max_project_size(self) -> int:
        return self.max_project_size or settings.INDEX_MAX_PROJECT_SIZE


class Release(models.Model):
    """One version of a project, with its core metadata (up to Metadata-Version 2.4)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="releases")
    version = models.CharField(max_length=100, help_text="As uploaded.")
    # Set on save from ``version`` (packaging.utils.canonicalize_version).
    canonical_version = models.CharField(max_length=100, editable=False)
    is_prerelease = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    yanked = models.BooleanField(default=False)
    yanked_reason = models.TextField(blank=True, default="")
    # One release hidden from every API while its project stays (the project-wide
    # state is Project.status); packages.curation.release_states changes it.
    quarantined = models.BooleanField(default=False)
    quarantine_reason = models.TextField(blank=True, default="")

    metadata_version = models.CharField(max_length=8, blank=True, default="")
    summary = models.CharField(max_length=512, blank=True, default="")
    description = models.TextField(blank=True, default="")
    description_content_type = models.CharField(max_length=128, blank=True, default="")
    # Rendered by the render_description task (readme-renderer); empty until then.
    description_html = models.TextField(blank=True, default="")
    description_rendered_from = models.CharField(max_length=64, blank=True, default="")
    keywords = models.TextField(blank=True, default="")
    home_page = models.TextField(blank=True, default="")
    download_url = models.TextField(blank=True, default="")
    author = models.TextField(blank=True, default="")
    author_email = models.TextField(blank=True, default="")
    maintainer = models.TextField(blank=True, default="")
    maintainer_email = models.TextField(blank=True, default="")
    license = models.TextField(blank=True, default="")
    license_expression = models.TextField(blank=True, default="")
    license_files = models.JSONField(default=list, blank=True)
    requires_python = models.CharField(max_length=255, blank=True, default="")
    requires_dist = models.JSONField(default=list, blank=True)
    provides_extra = models.JSONField(default=list, blank=True)
    requires_external = models.JSONField(default=list, blank=True)
    provides_dist = models.JSONField(default=list, blank=True)
    obsoletes_dist = models.JSONField(default=list, blank=True)
    classifiers = models.JSONField(default=list, blank=True)
    # Each entry "Label, https://url" exactly as in core metadata.
    project_urls = models.JSONField(default=list, blank=True)
    platforms = models.JSONField(default=list, blank=True)
    supported_platforms = models.JSONField(default=list, blank=True)
    dynamic = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "canonical_version"], name="unique_release_version"
            )
        ]
        indexes = [
            # The few yanked or quarantined releases among millions: the admin's
            # filters and its "has yanked releases" project filter.
            models.Index(fields=["project"], condition=Q(yanked=True),
                         name="release_yanked_idx"),
            models.Index(fields=["project"], condition=Q(quarantined=True),
                         name="release_quarantined_idx"),
            # A project's releases newest first (the admin's search), without
            # walking the primary key back to an old project's releases.
            models.Index(fields=["project", "id"], name="release_project_id_idx"),
            # A project's releases by date (its feed, its newest summary).
            models.Index(fields=["project", "created"], name="release_project_created_idx"),
        ]
        ordering = ["project", "-created"]

    def save(self, *args, **kwargs):
        # PEP 440 canonical form as PyPI keeps it: "1.0.0", "1.0" and "1" are one release.
        self.canonical_version = canonicalize_version(self.version)
        # PyPI's rule (its database trigger), not PEP 440's: 1.0+cpu is a pre-release.
        self.is_prerelease = is_prerelease(self.version)
        super().save(*args, **kwargs)

    def __str__(self):
        return f"{self.project.name} {self.version}"


class PackageType(models.TextChoices):
    WHEEL = "bdist_wheel", "Wheel"
    SDIST = "sdist", "Source distribution"


class File(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="files")
    filename = models.CharField(max_length=255, unique=True)
    packagetype = models.CharField(max_length=16, choices=PackageType.choices)
    python_version = models.CharField(max_length=64, help_text="'source' for sdists.")
    requires_python = models.CharField(max_length=255, blank=True, default="")
    size = models.BigIntegerField()
    md5_digest = models.CharField(max_length=32)
    sha256_digest = models.CharField(max_length=64, db_index=True)
    blake2_256_digest = models.CharField(max_length=64)
    upload_time = models.DateTimeField(default=timezone.now, db_index=True)
    # Storage path: packages/<b2[:2]>/<b2[2:4]>/<b2[4:]>/<filename> (PyPI's layout).
    path = models.CharField(max_length=512, unique=True)
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    comment_text = models.TextField(blank=True, default="")
    # PEP 658: hashes of <path>.metadata stored beside the file (wheels only).
    metadata_sha256 = models.CharField(max_length=64, blank=True, default="")
    metadata_blake2_256 = models.CharField(max_length=64, blank=True, default="")
    # PEP 740 attestations as sent by the uploader (stored, not yet verified).
    attestations = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["filename"]

    def __str__(self):
        return self.filename

    @property
    def metadata_path(self) -> str:
        return f"{self.path}.metadata"

    @property
    def has_metadata(self) -> bool:
        return bool(self.metadata_sha256)


class Filename(models.Model):
    """Every filename ever accepted. Rows are never deleted, so a deleted file's
    name can never be reused (as PyPI's file_registry)."""

    filename = models.CharField(max_length=255, unique=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.filename


class RoleName(models.TextChoices):
    OWNER = "Owner", "Owner"
    MAINTAINER = "Maintainer", "Maintainer"


class Role(models.Model):
    """A user's or a team's (Django group's) role on a project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        related_name="project_roles",
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="project_roles",
        help_text="A team: every member of this group holds the role.",
    )
    role_name = models.CharField(max_length=16, choices=RoleName.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(group__isnull=True))
                | (Q(user__isnull=True) & Q(group__isnull=False)),
                name="role_user_xor_group",
            ),
            models.UniqueConstraint(
                fields=["project", "user"], condition=Q(user__isnull=False),
                name="unique_user_role",
            ),
            models.UniqueConstraint(
                fields=["project", "group"], condition=Q(group__isnull=False),
                name="unique_group_role",
            ),
        ]

    @property
    def holder_name(self) -> str:
        return self.user.get_username() if self.user_id else self.group.name

    def __str__(self):
        return f"{self.role_name} {self.holder_name} on {self.project}"


class ApiToken(models.Model):
    """An API token. Only a SHA-256 of the secret is stored; the token is shown once.

    The wire form is ``isk_<identifier>_<secret>``: the identifier finds the row,
    the secret is compared in constant time against ``secret_hash``. Secrets are
    256 random bits, so a fast hash is enough (no password stretching needed)."""

    PREFIX = "isk"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    identifier = models.CharField(max_length=32, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    description = models.CharField(max_length=255, blank=True, default="")
    # Empty = every project the user has a role on (a "user-scoped" token).
    projects = models.ManyToManyField(Project, blank=True, related_name="api_tokens")
    read_only = models.BooleanField(default=False, help_text="Download only; cannot upload.")
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.PREFIX}_{self.identifier}_… ({self.user})"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @staticmethod
    def new_secret() -> str:
        return secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        if self.revoked is not None:
            return False
        return self.expires is None or self.expires > timezone.now()


class ProhibitedProjectName(models.Model):
    name = models.CharField(max_length=255)
    normalized_name = models.CharField(max_length=255, unique=True, editable=False)
    reason = models.TextField(blank=True, default="")
    created = models.DateTimeField(default=timezone.now)

    def save(self, *args, **kwargs):
        self.normalized_name = normalize_name(self.name)
        super().save(*args, **kwargs)

    def __str__(self):
        return self.name


class JournalEntry(models.Model):
    """Append-only log of changes; its id is the index's serial (PyPI's journals).

    ``name`` keeps the project name as a string so that entries outlive the
    project (``remove project`` must stay visible to mirrors)."""

    name = models.CharField(max_length=255, db_index=True)
    version = models.CharField(max_length=100, null=True, blank=True)
    action = models.TextField()
    submitted_date = models.DateTimeField(default=timezone.now, db_index=True)
    submitted_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "journal entries"
        indexes = [
            # The admin's user filter and search, newest first.
            models.Index(fields=["submitted_by", "id"], name="journal_submitted_by_idx"),
            # One project's entries newest first (the admin's project filter
            # and search), however far back they are.
            models.Index(fields=["name", "id"], name="journal_name_id_idx"),
            # The admin's action filter (prefixes: "create", "yank release", ...);
            # the operator class makes LIKE 'prefix%' indexable on PostgreSQL
            # (ignored elsewhere).
            models.Index(fields=["action"], opclasses=["text_pattern_ops"],
                         name="journal_action_prefix_idx"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Journal entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Journal entries are append-only")

    def __str__(self):
        return f"#{self.id} {self.name} {self.version or ''} {self.action}"


class ConsumerBan(models.Model):
    """An admin's prohibition of a consumer (the seed's "prohibit a consumer based on
    irresponsible activity"): by client address or network, and/or by User-Agent."""

    network = models.CharField(
        max_length=64, blank=True, default="",
        help_text="An address or CIDR network, e.g. 203.0.113.7 or 2001:db8::/32.",
    )
    user_agent_pattern = models.CharField(
        max_length=255, blank=True, default="",
        help_text="A regular expression searched in the User-Agent header.",
    )
    reason = models.TextField()
    created = models.DateTimeField(default=timezone.now)
    ends = models.DateTimeField(null=True, blank=True, help_text="Empty = permanent.")

    def __str__(self):
        return f"{self.network or '*'} / {self.user_agent_pattern or '*'}: {self.reason}"

    # The row and the ban list's version (moved by the signals in packages.access.bans)
    # commit together, even from a shell outside any transaction.
    def save(self, *args, **kwargs):
        with transaction.atomic():
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            return super().delete(*args, **kwargs)


class ConsumerBanListVersion(models.Model):
    """A single row whose ``version`` moves, in the change's transaction, on every
    change to the ban list (to a fresh random value, so that a rolled-back version
    is never reused). Every process reads it once per memo period to notice a ban
    saved by another process, with or without a shared cache (packages.access.bans)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "consumer ban list version"
from packages.cache.models import *  # noqa: E402,F401,F403
from packages.upstream.models import *  # noqa: E402,F401,F403
