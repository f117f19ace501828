"""Writing a value per project for many projects at once: importdists' batches
move each project's total size and last_serial once at their end, in one
statement per 200 projects rather than one per project."""

from django.db.models import BigIntegerField, Case, F, Value, When

from packages.models import Project

CHUNK = 200  # projects per statement: two parameters each, under every backend's limit


def update_per_project(field: str, values: dict[int, int], *, add: bool = False) -> None:
    """Set ``field`` of each project (pk -> value), or add the value to it."""
    pending = sorted(values.items())
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start:start + CHUNK]
        value = Case(*(When(pk=pk, then=Value(v)) for pk, v in chunk),
                     output_field=BigIntegerField())
        Project.objects.filter(pk__in=[pk for pk, _ in chunk]).update(
            **{field: F(field) + value if add else value})
