import pytest
from django.db import IntegrityError

from packages.models import Project
from packages.names import normalize_name, ultranormalize_name


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
