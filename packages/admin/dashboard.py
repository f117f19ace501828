"""The curators' dashboard (/admin/packages/project/dashboard/, linked from the
admin index): counts, storage used, uploads per day over 90 days as an SVG chart
drawn here on the server (no script, no external asset), recent uploads, and the
queues waiting for a curator (pending projects, the upstream approval queue)."""

from datetime import datetime, time, timedelta

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from packages.models import ApiToken, File, Project, ProjectStatus, Release

CHART_DAYS = 90


def uploads_per_day(days: int = CHART_DAYS) -> list[tuple]:
    """(date, files uploaded) for each of the last ``days`` days, today last, in the
    current time zone; days without uploads count 0. One query."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    counts = dict(
        File.objects.filter(upload_time__gte=since)
        .annotate(day=TruncDate("upload_time")).order_by()
        .values("day").annotate(n=Count("pk")).values_list("day", "n")
    )
    return [(day, counts.get(day, 0)) for day in (first + timedelta(n) for n in range(days))]


def uploads_chart_svg(series: list[tuple], *, width: int = 900, height: int = 220) -> str:
    """An SVG bar chart of ``series`` ((date, count) pairs); each bar carries a
    <title> tooltip. Only numbers and ISO dates go into it, escaped all the same."""
    left, bottom, top_pad = 44, 28, 12
    plot_h = height - bottom - top_pad
    peak = max((n for _, n in series), default=0) or 1
    bar = (width - left - 8) / max(len(series), 1)
    total = sum(n for _, n in series)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="uploads-chart" viewBox="0 0 {width} '
        f'{height}" width="{width}" height="{height}" role="img" '
        'aria-labelledby="uploads-chart-title" font-family="sans-serif" font-size="11">',
        f'<title id="uploads-chart-title">Uploads per day over the last {len(series)} days: '
        f"{total} in all</title>",
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 4}" y2="{top_pad + plot_h}" '
        'stroke="#888"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="#888"/>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end">{peak}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end">0</text>',
    ]
    for i, (day, count) in enumerate(series):
        x = left + i * bar
        h = count / peak * plot_h
        parts.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{top_pad + plot_h - h:.1f}" '
            f'width="{max(bar - 2, 1):.1f}" height="{h:.1f}" fill="#417690">'
            f"<title>{escape(day.isoformat())}: {count} upload(s)</title></rect>"
        )
        if i % 15 == 0 or i == len(series) - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 8}" '
                f'text-anchor="{"end" if i == len(series) - 1 else "middle"}">'
                f"{escape(day.strftime('%m-%d'))}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - built above from numbers and dates


def dashboard_data() -> dict:
    from packages.upstream.models import ApprovalState, UpstreamApproval

    by_status = dict(Project.objects.order_by().values("status").annotate(n=Count("pk"))
                     .values_list("status", "n"))
    now = timezone.now()
    series = uploads_per_day()
    approvals = UpstreamApproval.objects.filter(state=ApprovalState.PENDING)
    return {
        "counts": [
            ("Projects", sum(by_status.values())),
            *[(f"Projects {value}", by_status[value]) for value in ProjectStatus.values
              if by_status.get(value)],
            ("Releases", Release.objects.count()),
            ("Files", File.objects.count()),
            ("Users", get_user_model().objects.filter(is_active=True).count()),
            ("Active API tokens", ApiToken.objects.filter(
                Q(expires__isnull=True) | Q(expires__gt=now), revoked__isnull=True).count()),
        ],
        "storage_bytes": Project.objects.aggregate(s=Sum("total_size"))["s"] or 0,
        "chart": uploads_chart_svg(series),
        "uploads_in_chart": sum(n for _, n in series),
        "recent_uploads": File.objects.select_related("release__project", "uploader")
        .order_by("-upload_time")[:15],
        "pending_projects": Project.objects.filter(status=ProjectStatus.PENDING)
        .order_by("created")[:20],
        "pending_project_count": by_status.get(ProjectStatus.PENDING, 0),
        "approvals": approvals.select_related("upstream").order_by("requested_at")[:20],
        "approval_count": approvals.count(),
    }


def dashboard_view(request):
    if not request.user.has_perm("packages.view_project"):
        raise PermissionDenied
    return TemplateResponse(request, "admin/packages/dashboard.html", {
        **admin.site.each_context(request),
        "title": "Dashboard",
        **dashboard_data(),
    })
