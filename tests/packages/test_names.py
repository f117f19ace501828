import pytest
from django.db import IntegrityError

from packages.errors import UploadRejected
from packages.models import ProhibitedProjectName, Project
from packages.names import check_new_project_name, normalize_name, ultranormalize_name


@pytest.mark.parametrize("name", ["Foo.Bar", "foo_bar", "FOO-bar", "foo--bar", "Foo._-Bar"])
def test_pep503_spellings_normalize_to_one_name(name):
    assert normalize_name(name) == "foo-bar"


def test_pep503_spellings_are_one_project(db):
    Project.objects.create(name="Foo.Bar")
    for spelling in ("foo_bar", "FOO-bar"):
        with pytest.raises(IntegrityError):
            from django.db import transaction

            with transaction.atomic():
                Project.objects.create(name=spelling)
    assert Project.objects.get().normalized_name == "foo-bar"


def test_confusable_names_fold_together():
    assert ultranormalize_name("django-l0gin") == ultranormalize_name("Django_Login")
    assert ultranormalize_name("requests") != ultranormalize_name("request")


@pytest.mark.parametrize(("name", "message"), [
    ("-bad-", "The name '-bad-' is invalid."),
    ("Asyncio", "The name 'Asyncio' isn't allowed (conflict with Python Standard Library "
                "module name)."),
    ("reserved_name", "The name 'reserved_name' isn't allowed on this index."),
    ("Foo_Bar", "A project named 'foo-bar' already exists."),
    ("f00bar", "The name 'f00bar' is too similar to an existing project 'foo-bar'."),
])
def test_a_new_project_name_is_refused_saying_why(db, name, message):
    Project.objects.create(name="foo-bar")
    ProhibitedProjectName.objects.create(name="Reserved.Name")

    with pytest.raises(UploadRejected) as refusal:
        check_new_project_name(name)

    assert refusal.value.message == message


def test_a_free_valid_name_may_be_taken(db):
    Project.objects.create(name="foo-bar")

    check_new_project_name("foo-baz")
