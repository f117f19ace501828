"""Project search for the pages (``/search/?q=``): by name (PEP 503 normalized,
exact, prefix and substring), and by the summary and keywords of the newest
visible release; full-text ranked on PostgreSQL, ``icontains`` elsewhere.

Name matches come first (exact, then prefix, then substring), then the
full-text rank. Only visible projects are searched (packages.queries)."""

from django.db import connection
from django.db.models import Case, IntegerField, OuterRef, Q, Subquery, Value, When

from packages.names import normalize_name
from packages.queries import visible_projects, visible_releases

MAX_QUERY_LENGTH = 100


def search_projects(q: str):
    """Visible projects matching ``q``, best first, as a lazy queryset of
    Project rows annotated with ``latest_summary`` (the caller paginates)."""
    q = q.strip()
    name = normalize_name(q)
    newest = visible_releases().filter(project=OuterRef("pk")).order_by("-created", "-pk")
    projects = visible_projects().annotate(
        latest_summary=Subquery(newest.values("summary")[:1]),
        latest_keywords=Subquery(newest.values("keywords")[:1]),
        name_rank=Case(
            When(normalized_name=name, then=Value(3)),
            When(normalized_name__startswith=name, then=Value(2)),
            When(normalized_name__contains=name, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
    )
    if connection.vendor == "postgresql":
        return _full_text(projects, q)
    return projects.filter(
        Q(name_rank__gt=0) | Q(latest_summary__icontains=q) | Q(latest_keywords__icontains=q)
    ).order_by("-name_rank", "normalized_name")


def _full_text(projects, q: str):
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    vector = (
        SearchVector("name", weight="A", config="english")
        + SearchVector("latest_summary", weight="B", config="english")
        + SearchVector("latest_keywords", weight="C", config="english")
    )
    # websearch syntax never raises on what a person types (quotes, -, or).
    query = SearchQuery(q, search_type="websearch", config="english")
    # The vector itself, not its alias: SearchRank would cast an alias to text
    # and re-parse it, losing the weights.
    return (
        projects.annotate(rank=SearchRank(vector, query))
        .alias(document=vector)
        .filter(Q(name_rank__gt=0) | Q(document=query))
        .order_by("-name_rank", "-rank", "normalized_name")
    )
