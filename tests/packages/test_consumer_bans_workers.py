"""Bans reach every worker: under real gunicorn with two workers and no shared
cache (the embedded default's local-memory cache), a ban saved by another process
(``manage.py shell``) is enforced by both workers within MEMO_SECONDS, and so is
lifting it. Which worker answered comes from gunicorn's access log (``%(p)s``)."""

import shlex
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from packages.access.bans import MEMO_SECONDS
from tests.gunicorn_server import start_gunicorn

# The server has a database of its own; this mark only gives the session's
# database fixtures (tests/conftest.py) the test database they expect.
pytestmark = pytest.mark.django_db

MARGIN = 1.5  # seconds beyond MEMO_SECONDS, for a busy machine
BOT = "WorkerBot/1.0"


@pytest.fixture
def server(tmp_path):
    access_log = tmp_path / "access.log"
    server = start_gunicorn(
        tmp_path,
        workers=2,
        CACHE_URL=None,
        # The worker's pid, the status and the User-Agent of every request. With
        # --preload the workers are forked with Django loaded, so the server's
        # first answer (start_gunicorn waits 2 s for it) does not wait for imports
        # on a busy machine; each worker still keeps its own ban list.
        GUNICORN_CMD_ARGS=(
            f"--preload --access-logfile {shlex.quote(str(access_log))}"
            " --access-logformat '%(p)s %(s)s %(a)s'"
        ),
    )
    server.access_log = access_log
    yield server
    server.stop()


def answers(server, phase: str, *, count: int = 60) -> dict[str, set[int]]:
    """Sends ``count`` requests, some at once so that both workers take some, each
    on a new connection and tagged with ``phase``; returns the statuses each worker
    (pid) answered, from the access log."""
    user_agent = f"{BOT} {phase}"

    def get(_):
        return requests.get(f"{server.url}/simple/", headers={"User-Agent": user_agent}, timeout=10)

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(get, range(count)))
    for response in responses:
        if response.status_code == 403:
            assert response.reason == "Forbidden: Crawling too fast"
            assert "Crawling too fast" in response.text
    # A worker logs a request just after answering it: wait for every line.
    deadline = time.monotonic() + 10
    while True:
        lines = [
            line.split(" ", 2)
            for line in server.access_log.read_text().splitlines()
            if line.endswith(f" {user_agent}")
        ]
        if len(lines) == count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert sorted(int(status) for _, status, _ in lines) == sorted(
        response.status_code for response in responses
    )
    by_worker: dict[str, set[int]] = {}
    for pid, status, _ in lines:
        by_worker.setdefault(pid, set()).add(int(status))
    return by_worker


def answers_from_both_workers(server, phase: str) -> dict[str, set[int]]:
    for attempt in range(5):
        by_worker = answers(server, f"{phase}-{attempt}")
        if len(by_worker) == 2:
            return by_worker
    pytest.fail(f"only one worker answered: {by_worker}")


def wait_one_memo_period(since: float) -> None:
    time.sleep(max(0.0, since + MEMO_SECONDS + MARGIN - time.monotonic()))


def test_a_ban_saved_in_another_process_reaches_every_worker(server):
    # Both workers hold their (empty) copy of the ban list.
    assert all(s == {200} for s in answers_from_both_workers(server, "before").values())

    server.shell(
        "from packages.models import ConsumerBan\n"
        "ConsumerBan.objects.create(user_agent_pattern='^WorkerBot/', reason='Crawling too fast')"
    )
    saved = time.monotonic()
    wait_one_memo_period(saved)

    banned = answers_from_both_workers(server, "banned")
    assert all(statuses == {403} for statuses in banned.values()), banned
    # Other consumers are still served.
    assert requests.get(f"{server.url}/simple/", timeout=10).status_code == 200

    server.shell(
        "from packages.access.bans import end_bans\n"
        "from packages.models import ConsumerBan\n"
        "end_bans(ConsumerBan.objects.all())"
    )
    lifted = time.monotonic()
    wait_one_memo_period(lifted)

    served = answers_from_both_workers(server, "lifted")
    assert all(statuses == {200} for statuses in served.values()), served
