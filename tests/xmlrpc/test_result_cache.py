"""The result cache of the heavy methods (spec §7): answers come from the cache
until a change to the project (or to the project list) purges its tag."""

import time

import requests

from packages.cache.purgers import purge_keys_now
from packages.curation.projects import create_project as register_project
from packages.curation.roles import add_role
from packages.http import shared_cache
from packages.models import Project, Role, RoleName
from tests.factories import create_project, create_user


def eventually(check, timeout=5.0):
    """Purges run after commit, in a Celery worker when one is configured."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the purge never took effect"
        time.sleep(0.05)


def test_a_purge_bumps_the_generation_results_are_keyed_by(db):
    assert shared_cache.generation("project/gen") == 0
    purge_keys_now(["project/gen", "all-projects"])
    purge_keys_now(["project/gen"])
    assert shared_cache.generation("project/gen") == 2
    assert shared_cache.generation("all-projects") == 1


def test_list_packages_with_serial_is_cached_until_the_project_list_changes(rpc):
    create_project("first")
    assert set(rpc.list_packages_with_serial()) == {"first"}
    assert rpc.list_packages() == ["first"]

    # Rows written behind the domain's back (no journal, no purge) are not seen: cached.
    Project.objects.create(name="unpurged")
    assert set(rpc.list_packages_with_serial()) == {"first"}
    assert rpc.list_packages() == ["first"]

    register_project("second")  # a domain operation: purges all-projects on commit
    eventually(lambda: set(rpc.list_packages_with_serial()) == {"first", "unpurged", "second"})
    assert sorted(rpc.list_packages()) == ["first", "second", "unpurged"]
    serials = rpc.list_packages_with_serial()
    assert serials == dict(Project.objects.values_list("name", "last_serial"))


def test_package_roles_is_purged_per_project(rpc):
    ada = create_user("ada")
    alpha = create_project("Alpha", owner=ada)
    beta = create_project("Beta", owner=ada)
    assert rpc.package_roles("alpha") == [["Owner", "ada"]]
    assert rpc.package_roles("BETA") == [["Owner", "ada"]]
    Role.objects.update(role_name=RoleName.MAINTAINER)  # no purge: both answers stay
    assert rpc.package_roles("alpha") == [["Owner", "ada"]]

    add_role(alpha, role_name=RoleName.OWNER, user=create_user("bob"), by=ada)

    eventually(lambda: rpc.package_roles("alpha") == [["Owner", "bob"], ["Maintainer", "ada"]])
    # Every spelling of the purged project is fresh; the other project is untouched.
    assert rpc.package_roles("ALPHA") == [["Owner", "bob"], ["Maintainer", "ada"]]
    assert rpc.package_roles("BETA") == [["Owner", "ada"]]
    assert Role.objects.get(project=beta).role_name == RoleName.MAINTAINER


def test_cached_serials_follow_every_journaled_change(rpc, live_server):
    """A role change journals an entry (the project's serial moves) but purges only
    the project's key: the cached serial map must still match X-PyPI-Last-Serial."""
    ada = create_user("ada")
    project = create_project("TinyProj", owner=ada)
    assert rpc.list_packages_with_serial() == {"TinyProj": project.last_serial}

    add_role(project, role_name=RoleName.MAINTAINER, user=create_user("bob"), by=ada)

    page = requests.get(f"{live_server.url}/simple/tinyproj/", timeout=10)
    serial = int(page.headers["X-PyPI-Last-Serial"])
    assert serial == Project.objects.get().last_serial == rpc.changelog_last_serial()
    assert rpc.list_packages_with_serial() == {"TinyProj": serial}
