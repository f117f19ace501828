"""Rows of the upstream proxy: the upstreams themselves, the pages and files kept
from them, and the curation an admin applies (reservations, allowances, the
approval queue, blocks, cooldown overrides). Imported by packages.models so that
Django sees them; nothing here imports the rest of packages.upstream."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone

from packages.names import normalize_name

__all__ = [
    "ApprovalState", "ReservedName", "Upstream", "UpstreamAllowance", "UpstreamApproval",
    "UpstreamBlock", "UpstreamCooldown", "UpstreamFetchLease", "UpstreamFile", "UpstreamMode",
    "UpstreamProject",
]


class UpstreamMode(models.TextChoices):
    OPEN = "open", "Open (every project the upstream has)"
    APPROVAL = "approval", "Approval (curators approve each project first)"


class Upstream(models.Model):
    """Another simple-API index (PEP 503/691) whose projects this index serves."""

    name = models.SlugField(max_length=64, unique=True, help_text="Named in messages and logs.")
    simple_url = models.URLField(
        max_length=500, help_text="The simple API root, e.g. https://pypi.org/simple/"
    )
    files_hosts = models.TextField(
        blank=True, default="",
        help_text="Other hosts its pages may link files to, one per line "
                  "(files.pythonhosted.org for PyPI). Any other host is refused.",
    )
    # Sent only to the simple_url's own scheme, host and port (packages.upstream.client).
    username = models.CharField(max_length=255, blank=True, default="")
    password = models.CharField(max_length=255, blank=True, default="")
    priority = models.IntegerField(default=100, help_text="Lower is asked first.")
    enabled = models.BooleanField(default=True)
    mode = models.CharField(max_length=16, choices=UpstreamMode.choices, default=UpstreamMode.OPEN)
    cooldown_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Minimum file age; empty = INDEX_UPSTREAM_COOLDOWN."
    )
    revalidate_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Kept pages are revalidated after this; "
                                         "empty = INDEX_UPSTREAM_REVALIDATE.",
    )
    max_stale_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="While the upstream fails, kept pages are served up "
                                         "to this age; empty = INDEX_UPSTREAM_MAX_STALE.",
    )
    max_page_bytes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty = INDEX_UPSTREAM_MAX_PAGE_BYTES."
    )
    timeout_seconds = models.FloatField(
        null=True, blank=True, help_text="The longest a request waits for this upstream; "
                                         "empty = INDEX_UPSTREAM_TIMEOUT.",
    )
    connect_timeout_seconds = models.FloatField(null=True, blank=True)
    # The row mirroring INDEX_UPSTREAM_URL: its URL, mode and cooldown follow the
    # environment at every start (packages.upstream.config).
    from_environment = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self):
        return self.name

    def __repr__(self):  # never the password
        return f"<Upstream {self.name} {self.simple_url}>"

    @property
    def files_host_list(self) -> list[str]:
        return [h.strip().lower() for h in self.files_hosts.replace(",", "\n").splitlines()
                if h.strip()]


class UpstreamProject(models.Model):
    """A project page kept from an upstream (it survives restarts and serves
    stale while the upstream is down). ``files`` holds the parsed, validated
    links (packages.upstream.parsing.Link as dicts), before any filter."""

    upstream = models.ForeignKey(Upstream, on_delete=models.CASCADE, related_name="projects")
    normalized_name = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True, default="")
    files = models.JSONField(default=list)
    project_status = models.CharField(max_length=32, blank=True, default="")
    status_reason = models.TextField(blank=True, default="")
    last_serial = models.BigIntegerField(null=True, blank=True)
    etag = models.CharField(max_length=255, blank=True, default="")
    last_modified = models.CharField(max_length=64, blank=True, default="")
    page_bytes = models.PositiveIntegerField(default=0)
    fetched_at = models.DateTimeField(help_text="Last 200 from the upstream.")
    checked_at = models.DateTimeField(help_text="Last 200 or 304 from the upstream.")
    # The upstream answered 404 at the last check: the page is no longer used.
    gone = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["upstream", "normalized_name"],
                                    name="unique_upstream_project")
        ]
        ordering = ["normalized_name", "upstream"]

    def __str__(self):
        return f"{self.normalized_name} ({self.upstream})"


class UpstreamFile(models.Model):
    """A file an upstream page listed. ``first_seen`` stands in for the upload
    time in the cooldown when the upstream gives none; ``path`` is set once the
    copy is stored and its sha256 checked (packages.upstream.files)."""

    project = models.ForeignKey(UpstreamProject, on_delete=models.CASCADE, related_name="kept_files")
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    first_seen = models.DateTimeField(default=timezone.now)
    size = models.BigIntegerField(null=True, blank=True)
    path = models.CharField(max_length=512, blank=True, default="")
    stored_at = models.DateTimeField(null=True, blank=True)
    metadata_sha256 = models.CharField(max_length=64, blank=True, default="")
    metadata_stored = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "filename"], name="unique_upstream_file")
        ]

    def __str__(self):
        return self.filename


class NameRuleMixin(models.Model):
    """A row about one project name, kept in PEP 503 normal form."""

    name = models.CharField(max_length=255)
    normalized_name = models.CharField(max_length=255, editable=False, db_index=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.normalized_name = normalize_name(self.name)
        super().save(*args, **kwargs)

    def __str__(self):
        return self.name


class ReservedName(NameRuleMixin):
    """A name (or a PEP 752 namespace prefix) that is internal: never looked up
    upstream, served from local files only."""

    is_prefix = models.BooleanField(
        default=False, help_text="A namespace: the name and every name starting with 'name-'."
    )
    reason = models.TextField(blank=True, default="")
    team = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The team owning the namespace (its members manage it).",
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["normalized_name", "is_prefix"],
                                    name="unique_reserved_name")
        ]

    def __str__(self):
        return f"{self.name}-*" if self.is_prefix else self.name


class UpstreamAllowance(NameRuleMixin):
    """An admin's exception to dependency-confusion protection for one name."""

    allow_merge = models.BooleanField(
        default=False, help_text="Serve upstream files beside the local ones."
    )
    allow_first_upload = models.BooleanField(
        default=False, help_text="Accept a first upload although the name exists upstream."
    )
    reason = models.TextField(blank=True, default="")
    created = models.DateTimeField(default=timezone.now)


class ApprovalState(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"


class UpstreamApproval(models.Model):
    """The curators' queue for upstreams in approval mode: one row per name and upstream."""

    upstream = models.ForeignKey(Upstream, on_delete=models.CASCADE, related_name="approvals")
    normalized_name = models.CharField(max_length=255)
    state = models.CharField(max_length=16, choices=ApprovalState.choices,
                             default=ApprovalState.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["upstream", "normalized_name"],
                                    name="unique_upstream_approval")
        ]
        ordering = ["state", "-requested_at"]

    def __str__(self):
        return f"{self.normalized_name} from {self.upstream}: {self.state}"


class UpstreamBlock(NameRuleMixin):
    """A blocked upstream project, or only its versions matching a specifier."""

    upstream = models.ForeignKey(Upstream, null=True, blank=True, on_delete=models.CASCADE,
                                 help_text="Empty = every upstream.")
    specifier = models.CharField(
        max_length=255, blank=True, default="",
        help_text="PEP 440 specifier, e.g. '>=2.0,<2.1' or '==1.4.2'; empty = the whole project.",
    )
    reason = models.TextField()
    created = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.name} {self.specifier}".strip()


class UpstreamCooldown(NameRuleMixin):
    """A per-project cooldown: another minimum age, or an exemption."""

    upstream = models.ForeignKey(Upstream, null=True, blank=True, on_delete=models.CASCADE,
                                 help_text="Empty = every upstream.")
    min_age_seconds = models.PositiveIntegerField(null=True, blank=True)
    exempt = models.BooleanField(default=False, help_text="No cooldown for this project.")
    reason = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(exempt=True) | Q(min_age_seconds__isnull=False),
                name="upstream_cooldown_has_effect",
            )
        ]


class UpstreamFetchLease(models.Model):
    """Single flight across processes: whoever inserts the row for a page or a
    file fetches it; the others wait for the row to go. ``expires_at`` frees the
    key when a holder died without deleting it."""

    key = models.CharField(max_length=255, unique=True)
    expires_at = models.DateTimeField()
