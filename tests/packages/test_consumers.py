"""The consumer policy: banned addresses, networks and User-Agents are refused
on every API (403 naming the reason; XML-RPC a Fault), bans end on time, a
forged X-Forwarded-For changes nothing, checking costs no query (one per memo
period), every change moves the database version in its own transaction, and
User-Agent patterns match in linear time. (Several gunicorn workers with no
shared cache: test_consumer_bans_workers.py.)"""

import time
import xmlrpc.client
from datetime import timedelta

import pytest
import requests
from django.core.cache import cache
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from packages.access import bans as consumers
from packages.admin.bans import ConsumerBanForm
from packages.models import ConsumerBan, ConsumerBanListVersion

pytestmark = pytest.mark.django_db

BANNED = "203.0.113.7"
CLEAN = "198.51.100.1"
API_PATHS = ["/simple/", "/simple/tinyproj/", "/pypi/tinyproj/json", "/rss/updates.xml"]
XMLRPC_CALL = xmlrpc.client.dumps((), "changelog_last_serial")


@pytest.fixture(autouse=True)
def _fresh_policy():
    """Each test starts from, and leaves, an empty ban list in this process's memo."""
    consumers.forget_memo()
    yield
    ConsumerBan.objects.all().delete()
    consumers.forget_memo()
    consumers.active_bans()


def ban(**fields):
    fields.setdefault("reason", "Thousands of requests per minute; contact ops@example.org")
    return ConsumerBan.objects.create(**fields)


def xmlrpc_post(client, path="/pypi", **extra):
    return client.post(path, XMLRPC_CALL, content_type="text/xml", **extra)


def assert_refused(response, reason="Thousands of requests per minute", *, body=True):
    assert response.status_code == 403
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    if body:
        assert reason in response.content.decode()
    # pip and twine print the reason phrase of the status line.
    assert response.reason_phrase.startswith("Forbidden: ")
    assert reason in response.reason_phrase


def assert_fault(response, reason="Thousands of requests per minute"):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(response.content)
    assert fault.value.faultCode == -32500
    assert fault.value.faultString.startswith("HTTPForbidden: ")
    assert reason in fault.value.faultString


@pytest.mark.parametrize("path", API_PATHS)
def test_banned_address_is_refused_on_every_api(client, path):
    ban(network=BANNED)
    assert_refused(client.get(path, REMOTE_ADDR=BANNED))
    assert_refused(client.head(path, REMOTE_ADDR=BANNED), body=False)


@pytest.mark.parametrize("path", API_PATHS)
def test_banned_user_agent_is_refused_on_every_api(client, path):
    ban(user_agent_pattern=r"^BadBot/[0-9]")
    assert_refused(client.get(path, HTTP_USER_AGENT="BadBot/2.1 (+http://bad.example)"))


@pytest.mark.parametrize("path", ["/pypi", "/RPC2"])
def test_banned_consumers_get_a_fault_on_xmlrpc(client, path):
    ban(network=BANNED)
    ban(user_agent_pattern="BadBot", reason="Scraping XML-RPC")
    assert_fault(xmlrpc_post(client, path, REMOTE_ADDR=BANNED))
    assert_fault(xmlrpc_post(client, path, HTTP_USER_AGENT="BadBot/1"), reason="Scraping XML-RPC")


def test_consumers_not_banned_are_served(client):
    ban(network=BANNED)
    ban(user_agent_pattern="BadBot")
    response = client.get("/rss/updates.xml", REMOTE_ADDR=CLEAN, HTTP_USER_AGENT="pip/25.0")
    assert response.status_code == 200
    assert client.get("/rss/updates.xml", HTTP_USER_AGENT="GoodBot/1").status_code == 200
    # An XML-RPC call from a clean client reaches the XML-RPC app (no prohibition Fault).
    assert b"HTTPForbidden" not in xmlrpc_post(client, REMOTE_ADDR=CLEAN).content


def test_network_ban_covers_its_whole_range(client):
    ban(network="203.0.113.0/24")
    ban(network="2001:db8::/32")
    for refused in ("203.0.113.1", "203.0.113.254", "2001:db8::1", "2001:db8:ffff::9"):
        assert client.get("/rss/updates.xml", REMOTE_ADDR=refused).status_code == 403, refused
    for served in ("203.0.114.1", "2001:db9::1", "::1"):
        assert client.get("/rss/updates.xml", REMOTE_ADDR=served).status_code == 200, served


def test_ban_with_network_and_user_agent_needs_both(client):
    ban(network=BANNED, user_agent_pattern="python-requests")
    assert_refused(
        client.get("/rss/updates.xml", REMOTE_ADDR=BANNED, HTTP_USER_AGENT="python-requests/2")
    )
    assert (
        client.get("/rss/updates.xml", REMOTE_ADDR=BANNED, HTTP_USER_AGENT="pip/25").status_code
        == 200
    )
    assert (
        client.get(
            "/rss/updates.xml", REMOTE_ADDR=CLEAN, HTTP_USER_AGENT="python-requests/2"
        ).status_code
        == 200
    )


def test_ban_ends_at_its_end_time_without_admin_action(client):
    ends = timezone.now() + timedelta(seconds=1.5)
    ban(network=BANNED, ends=ends)
    refused = client.get("/rss/updates.xml", REMOTE_ADDR=BANNED)
    assert_refused(refused)
    assert f"until {ends:%Y-%m-%d %H:%M:%S} UTC" in refused.content.decode()

    time.sleep(max(0, (ends - timezone.now()).total_seconds()) + 0.05)

    assert client.get("/rss/updates.xml", REMOTE_ADDR=BANNED).status_code == 200


def test_ended_ban_refuses_nobody(client):
    ban(network=BANNED, ends=timezone.now() - timedelta(seconds=1))
    assert client.get("/rss/updates.xml", REMOTE_ADDR=BANNED).status_code == 200


def test_forged_forwarded_for_does_not_escape_a_ban_without_trusted_proxies(client, settings):
    settings.INDEX_TRUSTED_PROXY_HOPS = 0
    ban(network=BANNED)
    assert_refused(client.get("/rss/updates.xml", REMOTE_ADDR=BANNED, HTTP_X_FORWARDED_FOR=CLEAN))
    # Nor does naming a banned address in the header get anyone else refused.
    assert (
        client.get("/rss/updates.xml", REMOTE_ADDR=CLEAN, HTTP_X_FORWARDED_FOR=BANNED).status_code
        == 200
    )


def test_forged_forwarded_for_does_not_escape_a_ban_behind_one_proxy(client, settings):
    settings.INDEX_TRUSTED_PROXY_HOPS = 1
    ban(network=BANNED)
    # The client wrote CLEAN; the proxy (10.0.0.1) appended the address it saw.
    assert_refused(
        client.get(
            "/rss/updates.xml", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{CLEAN}, {BANNED}"
        )
    )
    assert_fault(
        xmlrpc_post(client, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{CLEAN}, {BANNED}")
    )
    served = client.get(
        "/rss/updates.xml", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{BANNED}, {CLEAN}"
    )
    assert served.status_code == 200


@pytest.mark.parametrize(
    ("hops", "remote", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "198.51.100.9", "192.0.2.1"),
        (1, "10.0.0.1", "", "10.0.0.1"),
        (1, "10.0.0.1", "6.6.6.6, 198.51.100.9", "198.51.100.9"),
        (2, "10.0.0.1", "6.6.6.6, 198.51.100.9, 10.0.0.2", "198.51.100.9"),
        (2, "10.0.0.1", "198.51.100.9", "198.51.100.9"),  # one proxy bypassed
        (1, "10.0.0.1", "198.51.100.9:51234", "198.51.100.9"),
        (1, "10.0.0.1", "[2001:db8::5]:443", "2001:db8::5"),
        (0, "::ffff:198.51.100.9", "", "198.51.100.9"),
        (1, "10.0.0.1", "garbage", None),
    ],
)
def test_client_address_trusts_only_the_configured_hops(
    settings, hops, remote, forwarded, expected
):
    settings.INDEX_TRUSTED_PROXY_HOPS = hops
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    address = consumers.client_address(request)
    assert (str(address) if address is not None else None) == expected


def test_checking_the_policy_costs_no_query_once_warm(client, django_assert_num_queries):
    ban(network=BANNED)
    ban(user_agent_pattern="BadBot")
    client.get("/no-such-page/")  # warms the memo
    with django_assert_num_queries(0):
        assert client.get("/no-such-page/", REMOTE_ADDR=CLEAN).status_code == 404
        assert client.get("/rss/updates.xml", REMOTE_ADDR=BANNED).status_code == 403
        assert client.get("/simple/", HTTP_USER_AGENT="BadBot").status_code == 403
        request = RequestFactory().get("/", REMOTE_ADDR=BANNED)
        for _ in range(100):
            assert consumers.prohibition_for(request) is not None


def db_version():
    return ConsumerBanListVersion.objects.filter(pk=1).values_list("version", flat=True).first()


def test_other_processes_see_a_change_through_the_database_version(
    monkeypatch, django_assert_num_queries
):
    request = RequestFactory().get("/", REMOTE_ADDR=BANNED)
    assert consumers.prohibition_for(request) is None
    # A ban written by another process: its row, and the version its transaction
    # moved in this database. No signal runs here and no cache is shared.
    ConsumerBan.objects.bulk_create([ConsumerBan(network=BANNED, reason="elsewhere")])
    assert consumers.prohibition_for(request) is None  # within the memo period
    monkeypatch.setattr(consumers, "MEMO_SECONDS", 0)
    with django_assert_num_queries(1):  # the version row only
        assert consumers.prohibition_for(request) is None  # version unchanged: copy kept
    ConsumerBanListVersion.objects.update_or_create(pk=1, defaults={"version": 12345})
    assert consumers.prohibition_for(request).reason == "elsewhere"


def test_the_cache_plays_no_part(monkeypatch):
    ban(network=BANNED)
    request = RequestFactory().get("/", REMOTE_ADDR=BANNED)
    assert consumers.prohibition_for(request) is not None
    monkeypatch.setattr(consumers, "MEMO_SECONDS", 0)
    cache.clear()
    assert consumers.prohibition_for(request) is not None


def test_a_process_reads_the_version_once_per_memo_period(monkeypatch, django_assert_num_queries):
    ban(network=BANNED)
    request = RequestFactory().get("/", REMOTE_ADDR=BANNED)
    clock = [1000.0]
    monkeypatch.setattr(consumers.time, "monotonic", lambda: clock[0])
    assert consumers.prohibition_for(request) is not None  # loads the list
    with django_assert_num_queries(0):
        clock[0] += consumers.MEMO_SECONDS - 0.1
        for _ in range(50):
            assert consumers.prohibition_for(request) is not None
    with django_assert_num_queries(1):
        clock[0] += 0.2
        for _ in range(50):
            assert consumers.prohibition_for(request) is not None


def save_a_ban():
    ban(network=BANNED)


def change_a_ban():
    entry = ConsumerBan.objects.get()
    entry.reason = "changed"
    entry.save()


def delete_a_ban():
    ConsumerBan.objects.get().delete()


def delete_bans_as_the_admin_action_does():
    ConsumerBan.objects.all().delete()


def end_all_bans():
    assert consumers.end_bans(ConsumerBan.objects.all()) == 1


@pytest.mark.parametrize(
    "change",
    [save_a_ban, change_a_ban, delete_a_ban, delete_bans_as_the_admin_action_does, end_all_bans],
)
def test_every_change_moves_the_version_in_its_own_transaction(change):
    if change is not save_a_ban:
        ban(network="192.0.2.1")
    before = db_version()

    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), transaction.atomic():
        change()
        # Moved before the commit, in the same transaction...
        assert db_version() not in (None, before)
        raise RolledBack
    # ...so it rolls back with the change, and moves when the change commits.
    assert db_version() == before
    change()
    assert db_version() not in (None, before)


def test_changes_apply_at_once_in_the_process_that_made_them(client):
    assert client.get("/rss/updates.xml", REMOTE_ADDR=BANNED).status_code == 200
    entry = ban(network=BANNED, reason="first reason")
    assert_refused(client.get("/rss/updates.xml", REMOTE_ADDR=BANNED), reason="first reason")
    entry.reason = "second reason"
    entry.save()
    assert_refused(client.get("/rss/updates.xml", REMOTE_ADDR=BANNED), reason="second reason")
    entry.delete()
    assert client.get("/rss/updates.xml", REMOTE_ADDR=BANNED).status_code == 200


def test_admin_stays_reachable_and_can_lift_a_ban(admin_client):
    entry = ban(network=BANNED)  # the admin's own address
    assert admin_client.get("/rss/updates.xml", REMOTE_ADDR=BANNED).status_code == 403
    assert admin_client.get("/admin/packages/consumerban/", REMOTE_ADDR=BANNED).status_code == 200

    response = admin_client.post(
        "/admin/packages/consumerban/",
        {"action": "end_selected_now", "_selected_action": [entry.pk]},
        REMOTE_ADDR=BANNED,
    )

    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.ends is not None and entry.ends <= timezone.now()
    assert admin_client.get("/rss/updates.xml", REMOTE_ADDR=BANNED).status_code == 200


def test_admin_adds_a_ban_that_applies_at_once(admin_client, client):
    response = admin_client.post(
        "/admin/packages/consumerban/add/",
        {
            "network": "203.0.113.9/24",
            "user_agent_pattern": "",
            "reason": "Abusive crawler",
            "ends_0": "",
            "ends_1": "",
        },
    )
    assert response.status_code == 302, response.content
    assert ConsumerBan.objects.get().network == "203.0.113.0/24"
    assert_refused(client.get("/simple/", REMOTE_ADDR="203.0.113.50"), reason="Abusive crawler")
    listing = admin_client.get("/admin/packages/consumerban/?state=active&q=crawler")
    assert b"Abusive crawler" in listing.content


@pytest.mark.parametrize(
    ("entered", "stored"),
    [("::ffff:203.0.113.7", "203.0.113.7/32"), ("::ffff:203.0.113.0/120", "203.0.113.0/24"),
     ("2001:db8::1", "2001:db8::1/128")],
)
def test_admin_stores_ipv4_mapped_addresses_as_the_ipv4_they_ban(client, entered, stored):
    form = ConsumerBanForm(data={"network": entered, "reason": "Copied from a dual-stack log"})
    assert form.is_valid(), form.errors
    form.save()
    assert ConsumerBan.objects.get().network == stored
    refused = "2001:db8::1" if entered.startswith("2001") else "203.0.113.7"
    for remote in (refused, f"::ffff:{refused}") if "." in refused else (refused,):
        assert client.get("/rss/updates.xml", REMOTE_ADDR=remote).status_code == 403, remote


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"network": "203.0.113.300"}, "CIDR"),
        ({"user_agent_pattern": "bad(regex"}, "regular expression"),
        # RE2 cannot run these (they need backtracking): refused, with the reason.
        ({"user_agent_pattern": r"^(Bot)/\1"}, "no backreferences or lookarounds"),
        ({"user_agent_pattern": r"^(?!pip/)"}, "no backreferences or lookarounds"),
        ({}, "Give a network, a User-Agent pattern, or both."),
    ],
)
def test_admin_form_refuses_bans_that_cannot_match(data, error):
    form = ConsumerBanForm(data={"reason": "x", **data})
    assert not form.is_valid()
    assert error in str(form.errors)


CATASTROPHIC = r"^(a+)+$"  # 2**25 paths to try on the User-Agent below with backtracking
NEAR_MISS = "a" * 25 + "!"


def test_a_catastrophic_pattern_matches_in_linear_time():
    ban(user_agent_pattern=CATASTROPHIC)
    assert consumers.find_ban(None, "a" * 25) is not None  # loads the list; still matches
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        assert consumers.find_ban(None, NEAR_MISS) is None
        timings.append(time.perf_counter() - started)
    # Python's re takes over a second here; best of three so that a busy machine's
    # scheduling does not count.
    assert min(timings) < 0.010, timings


def test_a_catastrophic_pattern_does_not_slow_requests(client):
    ban(user_agent_pattern=CATASTROPHIC, reason="Only a's")
    assert_refused(client.get("/no-such-page/", HTTP_USER_AGENT="a" * 25), reason="Only a's")
    started = time.perf_counter()
    response = client.get("/no-such-page/", HTTP_USER_AGENT=NEAR_MISS)
    elapsed = time.perf_counter() - started
    assert response.status_code == 404
    assert elapsed < 0.2, elapsed  # the whole request; backtracking took over 1 s


def test_user_agent_patterns_keep_search_semantics_and_case():
    ban(user_agent_pattern="BadBot/[0-9]")
    ban(user_agent_pattern="(?i)^curl/", reason="curl")
    assert consumers.find_ban(None, "Mozilla/5.0 (compatible; BadBot/2.1)") is not None
    assert consumers.find_ban(None, "Mozilla/5.0 (compatible; badbot/2.1)") is None
    assert consumers.find_ban(None, "BadBot/x") is None
    assert consumers.find_ban(None, "CURL/8.5").reason == "curl"
    assert consumers.find_ban(None, "pip/25 curl/8.5") is None


def test_admin_refuses_a_backreference_pattern(admin_client):
    response = admin_client.post(
        "/admin/packages/consumerban/add/",
        {"network": "", "user_agent_pattern": r"^(\w+)/\1$", "reason": "Echo bots",
         "ends_0": "", "ends_1": ""},
    )
    assert response.status_code == 200
    assert b"Not a regular expression this index can run" in response.content
    assert b"no backreferences or lookarounds" in response.content
    assert not ConsumerBan.objects.exists()


def test_bans_hold_when_the_cache_is_down(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    consumers.forget_memo()
    ban(user_agent_pattern="^BadBot")
    assert_refused(client.get("/no-such-page/", HTTP_USER_AGENT="BadBot/1"))
    assert client.get("/no-such-page/", HTTP_USER_AGENT="pip/25").status_code == 404


class BannedMirrorTransport(xmlrpc.client.Transport):
    user_agent = "BannedMirror/1.0"


@pytest.mark.django_db(transaction=True)
def test_real_clients_see_the_reason(live_server):
    ban(user_agent_pattern="^BannedMirror/", reason="Mirroring too often")

    proxy = xmlrpc.client.ServerProxy(f"{live_server.url}/pypi", transport=BannedMirrorTransport())
    with pytest.raises(xmlrpc.client.Fault) as fault:
        proxy.changelog_last_serial()
    assert fault.value.faultCode == -32500
    assert "Mirroring too often" in fault.value.faultString

    response = requests.get(
        f"{live_server.url}/simple/", headers={"User-Agent": "BannedMirror/1.0"}, timeout=10
    )
    assert response.status_code == 403
    assert response.reason == "Forbidden: Mirroring too often"
    assert "Mirroring too often" in response.text
    served = requests.get(f"{live_server.url}/rss/updates.xml", timeout=10)
    assert served.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_xmlrpc_follows_bans_added_and_removed_in_the_admin(live_server, admin_client):
    proxy = xmlrpc.client.ServerProxy(f"{live_server.url}/pypi", transport=BannedMirrorTransport())
    assert proxy.changelog_last_serial() is None
    add = admin_client.post(
        "/admin/packages/consumerban/add/",
        {"network": "", "user_agent_pattern": "^BannedMirror/", "reason": "Polls every second",
         "ends_0": "", "ends_1": ""},
    )
    assert add.status_code == 302, add.content
    entry = ConsumerBan.objects.get()

    with pytest.raises(xmlrpc.client.Fault) as fault:
        proxy.changelog_last_serial()
    assert fault.value.faultCode == -32500
    assert "Polls every second" in fault.value.faultString

    delete = admin_client.post(f"/admin/packages/consumerban/{entry.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 302
    assert not ConsumerBan.objects.exists()
    assert proxy.changelog_last_serial() is None
