"""Project search for the pages (``/search/?q=``): by name (PEP 503 normalized,
exact, prefix and substring), and by the summary and keywords of the newest
visible release; full-text ranked on PostgreSQL, ``icontains`` elsewhere.

Name matches come first (exact, then prefix, then substring), then the
full-text rank. Only visible projects are searched (packages.queries).

At PyPI's size a word of a summary matches tens of thousands of projects, and
ranking each by its newest summary outlasts the statement timeout. So, as PyPI
("1,000+"), a search answers at most MAX_RESULTS projects: index-backed queries
pick a bounded set of candidates first (the best name matches through the
trigram index of migration 0003; projects with a release whose summary or
keywords match, through the full-text index of migration 0009), and only those
are checked against their newest visible release and ranked."""

from collections.abc import Sequence

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL

from packages.models import Release
from packages.names import normalize_name
from packages.queries import visible_projects

MAX_QUERY_LENGTH = 100
MAX_RESULTS = 1000
# Release rows read for the summary/keyword candidates (see _text_candidates).
TEXT_ROWS_READ = 10 * MAX_RESULTS

# The expression of the GIN index packages_release_search_document_gin
# (migration 0009), written out identically so that the planner uses it.
RELEASE_DOCUMENT = "to_tsvector('english'::regconfig, (summary::text || ' ' || keywords))"


class SearchResults(Sequence):
    """The ids of at most MAX_RESULTS matching projects, best first (``more``
    when further projects match); a slice of it (a page) is the Project rows,
    each annotated with ``latest_summary``, read for that slice only."""

    def __init__(self, ids: list[int], more: bool):
        self.ids, self.more = ids, more

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index:index + 1][0] if index >= 0 else self[len(self) + index]
        ids = self.ids[index]
        rows = {p.pk: p for p in _annotated(visible_projects().filter(pk__in=ids))}
        return [rows[pk] for pk in ids if pk in rows]


def _newest():
    # The projects are visible (always filtered so), so their releases only
    # need to be not quarantined one by one.
    return Release.objects.filter(project=OuterRef("pk"), quarantined=False).order_by(
        "-created", "-pk")


def _annotated(projects):
    return projects.annotate(
        latest_summary=Subquery(_newest().values("summary")[:1]),
        latest_keywords=Subquery(_newest().values("keywords")[:1]),
    )


def search_projects(q: str) -> SearchResults:
    q = q.strip()
    name = normalize_name(q)
    name_rank = Case(
        When(normalized_name=name, then=Value(3)),
        When(normalized_name__startswith=name, then=Value(2)),
        When(normalized_name__contains=name, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    candidates = set(
        visible_projects().filter(normalized_name__contains=name)
        .annotate(name_rank=name_rank).order_by("-name_rank", "normalized_name")
        .values_list("pk", flat=True)[:MAX_RESULTS + 1]
    )
    candidates.update(_text_candidates(q))
    projects = _annotated(visible_projects().filter(pk__in=candidates)).annotate(
        name_rank=name_rank)
    if connection.vendor == "postgresql":
        projects = _full_text(projects, q)
    else:
        projects = projects.filter(
            Q(name_rank__gt=0) | Q(latest_summary__icontains=q) | Q(latest_keywords__icontains=q)
        ).order_by("-name_rank", "normalized_name")
    found = list(projects.values_list("pk", flat=True)[:MAX_RESULTS + 1])
    return SearchResults(found[:MAX_RESULTS], more=len(found) > MAX_RESULTS)


def _text_candidates(q: str):
    """Ids of projects with a release (any, not only the newest) whose summary or
    keywords match, at most MAX_RESULTS + 1 of them, in no particular order."""
    releases = Release.objects.filter(quarantined=False)
    if connection.vendor == "postgresql":
        matches = RawSQL(f"{RELEASE_DOCUMENT} @@ websearch_to_tsquery('english'::regconfig, %s)",
                         [q], output_field=BooleanField())
        releases = releases.filter(matches)
    else:
        releases = releases.filter(Q(summary__icontains=q) | Q(keywords__icontains=q))
    # No DISTINCT in SQL: to answer it with LIMIT the planner walks the
    # project_id index across every release, filtering each. A bounded number
    # of matching rows is read instead (the full-text index finds a rare word's
    # few, a sequential scan soon finds a common word's many) and made
    # distinct here; a project with thousands of matching releases may leave
    # fewer than MAX_RESULTS candidates, which the "+" does not claim anyway.
    rows = releases.order_by().values_list("project_id", flat=True)[:TEXT_ROWS_READ]
    return list(dict.fromkeys(rows))[:MAX_RESULTS + 1]


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
