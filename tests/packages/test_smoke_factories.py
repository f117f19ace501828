from packages.models import File, JournalEntry
from tests.factories import create_user, publish


def test_publish_stores_files_and_journals(db):
    owner = create_user()
    release = publish("Foo.Bar", "1.0", owner=owner)
    assert File.objects.filter(release=release).count() == 2
    actions = list(JournalEntry.objects.values_list("action", flat=True))
    assert actions[:3] == ["create", "add Owner alice", "new release"]
    assert release.project.last_serial == JournalEntry.objects.latest("id").id
