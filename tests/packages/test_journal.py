import pytest
from django.db import transaction

from packages.curation.deletion import delete_file, delete_project, delete_release
from packages.journal import last_serial, record_journal_entry
from packages.models import File, Filename, JournalEntry, Project
from tests.factories import create_project, create_user, publish


def test_serials_strictly_increase_and_follow_the_project(db):
    project = create_project("serials")
    serials = []
    for n in range(5):
        with transaction.atomic():
            serials.append(record_journal_entry(project, f"action {n}").id)
    assert serials == sorted(serials) and len(set(serials)) == 5
    assert Project.objects.get(pk=project.pk).last_serial == serials[-1] == last_serial()


def test_serials_are_never_reused_after_deletion(db):
    release = publish("gone", "1.0")
    before = last_serial()
    delete_project(release.project)
    after_delete = last_serial()
    assert after_delete > before
    project = create_project("next")
    assert project.last_serial > after_delete
    ids = list(JournalEntry.objects.values_list("id", flat=True))
    assert ids == sorted(ids) and len(ids) == len(set(ids))


def test_journal_is_append_only(db):
    project = create_project("append")
    entry = JournalEntry.objects.get(name="append")
    entry.action = "tampered"
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    assert JournalEntry.objects.get(pk=entry.pk).action == "create"
    assert project.last_serial == entry.id


def test_record_outside_a_transaction_is_refused(transactional_db):
    project = create_project("notx")
    with pytest.raises(RuntimeError):
        record_journal_entry(project, "create")


def test_deleting_a_file_keeps_its_name_reserved_and_journals(db):
    release = publish("keepname", "1.0", sdist=False)
    file = release.files.get()
    delete_file(file, by=create_user("curator"))
    assert not File.objects.filter(filename=file.filename).exists()
    assert Filename.objects.filter(filename=file.filename).exists()
    entry = JournalEntry.objects.latest("id")
    assert (entry.action, entry.version, entry.submitted_by) == (
        f"remove file {file.filename}", "1.0", "curator")


def test_deleting_a_release_journals_each_file_then_the_release(db):
    release = publish("rel", "2.0")
    names = sorted(release.files.values_list("filename", flat=True))
    delete_release(release)
    actions = list(JournalEntry.objects.filter(name="rel").order_by("-id")
                   .values_list("action", flat=True)[:3])
    assert actions[0] == "remove release"
    assert sorted(actions[1:]) == sorted(f"remove file {n}" for n in names)
    assert Project.objects.get(name="rel").total_size == 0
