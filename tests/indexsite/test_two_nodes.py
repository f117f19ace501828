"""Two web nodes, as a multi-node deployment runs them (docs/operations.md): each
a real gunicorn, sharing nothing but PostgreSQL, Redis (cache and broker) and S3
(moto in server mode), behind one Varnish that spreads requests over both
(round robin), with a real Celery worker taking the tasks (description
rendering, CDN purges). What one node does, the other node and the CDN show:
an upload, a consumer ban, a yank."""

import shlex
import time

import pytest
import requests

from packages.access.bans import MEMO_SECONDS
from tests.dists import make_wheel
from tests.gunicorn_server import free_port, start_gunicorn
from tests.indexsite.deployment import (
    UPLOADER_SETUP,
    celery_worker,
    installed_version,
    moto_s3,
    pip_install,
    require_postgresql_pass,
    s3_client,
    s3_settings,
    twine_upload,
    varnish,
    wait_for,
)

pytestmark = pytest.mark.clients
BUCKET = "indexsite-two-nodes"
# The purge task runs in the worker soon after the change commits; a page the
# CDN keeps for a day (Surrogate-Control) that changes within this bound was purged.
PURGE_WITHIN = 30.0
MARGIN = 1.5  # seconds beyond the ban refresh interval, for a busy machine


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    require_postgresql_pass()
    tmp = tmp_path_factory.mktemp("two-nodes")
    with moto_s3() as endpoint:
        s3_client(endpoint).create_bucket(Bucket=BUCKET)
        varnish_port = free_port()  # the nodes purge it: known before they start
        shared = {
            **s3_settings(endpoint, BUCKET),
            # One SECRET_KEY for every node: a session or a signed value made by
            # one node is checked by another.
            "SECRET_KEY": "two-nodes-test-secret-key-" + "x" * 32,
            "INDEX_CDN_PURGE_URL": f"http://127.0.0.1:{varnish_port}/",
        }
        (tmp / "a").mkdir()
        (tmp / "b").mkdir()
        node_a = start_gunicorn(tmp / "a", setup=UPLOADER_SETUP, **shared,
                                GUNICORN_CMD_ARGS=access_log(tmp / "a"))
        node_b = None
        try:
            # Node B on node A's database: start_gunicorn made it, node A drops it.
            node_b = start_gunicorn(tmp / "b", database_url=node_a.env["DATABASE_URL"], **shared,
                                    GUNICORN_CMD_ARGS=access_log(tmp / "b"))
            assert node_b.env["DATABASE_URL"] == node_a.env["DATABASE_URL"]
            with (
                varnish(tmp, varnish_port, [node_a.url, node_b.url]) as cdn,
                celery_worker(node_a.env, tmp / "worker.log"),
            ):
                node_a.token = node_a.setup_output.strip().splitlines()[-1]
                yield node_a, node_b, cdn, tmp
        finally:
            if node_b is not None:
                node_b.stop()
            node_a.stop()


def access_log(folder) -> str:
    """gunicorn's access log in ``folder``: X-Forwarded-For (which Varnish sets,
    "-" on a direct request) and the path of each request."""
    return (f"--access-logfile {shlex.quote(str(folder / 'access.log'))}"
            " --access-logformat '%({x-forwarded-for}i)s %(U)s'")


def served_for_the_cdn(folder) -> bool:
    return any(not line.startswith("- ")
               for line in (folder / "access.log").read_text().splitlines())


def simple_page(url: str, project: str, **headers) -> requests.Response:
    response = requests.get(f"{url}/simple/{project}/", headers=headers, timeout=10)
    response.raise_for_status()
    return response


def cached_in(cdn: str, path: str) -> requests.Response:
    """Fetches ``path`` through the CDN until it is a hit (a warmed page)."""
    def hit():
        response = requests.get(f"{cdn}{path}", timeout=10)
        return response if response.headers["X-Cache"] == "HIT" else None

    return wait_for(hit, f"{path} to be cached", timeout=10)


def wheel(tmp, name: str, version: str):
    filename, content, _ = make_wheel(name, version)
    path = tmp / filename
    path.write_bytes(content)
    return path


def test_an_upload_to_node_a_installs_through_node_b_and_through_the_cdn(nodes):
    node_a, node_b, cdn, tmp = nodes
    # The CDN keeps the project list from before the project exists.
    index_before = cached_in(cdn, "/simple/")
    assert "two-nodes-demo" not in index_before.text

    twine_upload(node_a.url, node_a.token, wheel(tmp, "two-nodes-demo", "1.0"))

    venv = tmp / "venv-b"
    pip_install(f"{node_b.url}/simple/", venv, "two-nodes-demo")
    assert installed_version(venv, "two_nodes_demo") == "1.0"
    # The file itself is in the shared bucket, which node B redirected pip to.
    assert any(item["Key"].endswith("two_nodes_demo-1.0-py3-none-any.whl")
               for item in s3_client(node_a.env["AWS_S3_ENDPOINT_URL"])
               .list_objects_v2(Bucket=BUCKET)["Contents"])
    wait_for(lambda: "two-nodes-demo" in requests.get(f"{cdn}/simple/", timeout=10).text,
             "the CDN's project list to be purged", timeout=PURGE_WITHIN)

    warmed = cached_in(cdn, "/simple/two-nodes-demo/")
    assert "two_nodes_demo-2.0" not in warmed.text
    twine_upload(node_a.url, node_a.token, wheel(tmp, "two-nodes-demo", "2.0"))

    purged = wait_for(
        lambda: (page := simple_page(cdn, "two-nodes-demo")).text.count("two_nodes_demo-2.0")
        and page,
        "the CDN's page to show the new file", timeout=PURGE_WITHIN,
    )
    assert purged.headers["X-Cache"] == "MISS"
    venv = tmp / "venv-cdn"
    pip_install(f"{cdn}/simple/", venv, "two-nodes-demo")
    assert installed_version(venv, "two_nodes_demo") == "2.0"
    # Varnish spread its fetches over both nodes.
    wait_for(lambda: served_for_the_cdn(tmp / "a") and served_for_the_cdn(tmp / "b"),
             "both nodes to have served Varnish", timeout=10)
    # The purges were the worker's (the nodes queue them; nothing runs eagerly).
    log = (tmp / "worker.log").read_text()
    assert "packages.tasks.purge_cache_keys" in log and "succeeded" in log


def test_a_ban_made_on_node_a_holds_on_node_b_within_the_refresh_interval(nodes):
    node_a, node_b, _, _ = nodes
    bot = {"User-Agent": "TwoNodesBot/1.0"}
    # Node B holds its copy of the (empty) ban list.
    assert requests.get(f"{node_b.url}/simple/", headers=bot, timeout=10).status_code == 200

    node_a.shell(
        "from packages.models import ConsumerBan\n"
        "ConsumerBan.objects.create(user_agent_pattern='^TwoNodesBot/', reason='Too many requests')"
    )
    saved = time.monotonic()
    try:
        # (A tuple: a 403 Response is falsy.)
        (refused,) = wait_for(
            lambda: (r := requests.get(f"{node_b.url}/simple/", headers=bot, timeout=10))
            .status_code == 403 and (r,),
            "node B to apply the ban", timeout=MEMO_SECONDS + MARGIN, interval=0.1,
        )
        assert time.monotonic() - saved <= MEMO_SECONDS + MARGIN
        assert refused.reason == "Forbidden: Too many requests"
        assert requests.get(f"{node_b.url}/simple/", timeout=10).status_code == 200
    finally:
        node_a.shell(
            "from packages.access.bans import end_bans\n"
            "from packages.models import ConsumerBan\n"
            "end_bans(ConsumerBan.objects.all())"
        )
    wait_for(
        lambda: requests.get(f"{node_b.url}/simple/", headers=bot, timeout=10).status_code == 200,
        "node B to lift the ban", timeout=MEMO_SECONDS + MARGIN, interval=0.1,
    )


def test_a_yank_made_on_node_a_is_seen_through_node_b_and_through_the_cdn(nodes):
    node_a, node_b, cdn, tmp = nodes
    twine_upload(node_a.url, node_a.token, wheel(tmp, "yank-demo", "1.0"),
                 wheel(tmp, "yank-demo", "2.0"))
    assert "data-yanked" not in simple_page(node_b.url, "yank-demo").text
    assert "data-yanked" not in cached_in(cdn, "/simple/yank-demo/").text
    assert requests.get(f"{node_b.url}/pypi/yank-demo/2.0/json", timeout=10).json()[
        "info"]["yanked"] is False

    node_a.shell(
        "from packages.curation.yanking import yank_release\n"
        "from packages.models import Release\n"
        "yank_release(Release.objects.get(project__name='yank-demo', version='2.0'),"
        " reason='broken build')"
    )

    # Node B reads the shared database and cache: at once.
    assert 'data-yanked="broken build"' in simple_page(node_b.url, "yank-demo").text
    info = requests.get(f"{node_b.url}/pypi/yank-demo/2.0/json", timeout=10).json()["info"]
    assert (info["yanked"], info["yanked_reason"]) == (True, "broken build")
    # The CDN: once the worker's purge reached it.
    wait_for(lambda: 'data-yanked="broken build"' in simple_page(cdn, "yank-demo").text,
             "the CDN's page to show the yank", timeout=PURGE_WITHIN)
    venv = tmp / "venv-yank"
    pip_install(f"{cdn}/simple/", venv, "yank-demo")
    assert installed_version(venv, "yank_demo") == "1.0"  # PEP 592: 2.0 is skipped
