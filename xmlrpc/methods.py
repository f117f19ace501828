# Over 400 lines: one registry of every XML-RPC method, each beside its signature (spec order).
"""The XML-RPC methods, their signatures and PyPI's answers (spec xmlrpc-api.md).

§3: the six methods PyPI still serves. §9: the methods PyPI has disabled, served
here with the shapes they used to return because internal tools still call them;
any of them can be switched off with XMLRPC_DISABLED_METHODS, which makes it
answer PyPI's exact Fault (§4). Arguments are checked strictly, as Warehouse's
pydantic validation does, before anything else happens."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from urllib.parse import quote, urlsplit
from xmlrpc import queries
from xmlrpc.budget import Budget, budget_spent, max_multicall_calls
from xmlrpc.protocol import (
    Fault,
    Marshalled,
    application_error,
    clean_for_xml,
    invalid_params,
    marshal_value,
    method_not_found,
    wrapped_error,
)
from xmlrpc.result_cache import cached_call

from django.conf import settings

from packages.cache.keys import ALL_PROJECTS, project_key
from packages.names import normalize_name
from packages.queries import find_visible_project

logger = logging.getLogger(__name__)

DOCS_URL = "https://warehouse.pypa.io/api-reference/xml-rpc.html#deprecated-methods"
MAX_REPORTED_ERRORS = 10
# PostgreSQL bigint bounds: serials outside them match nothing / everything.
_BIGINT_MAX = 2**63 - 1

_REQUIRED = object()


# --- signatures ------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "int", "str", "bool", "list[str]", "list", "struct", "int|None"
    default: object = _REQUIRED


_MESSAGES = {
    "int": "Input should be a valid integer",
    "int|None": "Input should be a valid integer",
    "str": "Input should be a valid string",
    "bool": "Input should be a valid boolean",
    "list": "Input should be a valid list",
    "list[str]": "Input should be a valid list",
    "struct": "Input should be a valid dictionary",
}


def _type_errors(param: Param, value) -> list[tuple[str, str]]:
    kind = param.kind
    ok = {
        "int": type(value) is int,
        "int|None": value is None or type(value) is int,
        "str": type(value) is str,
        "bool": type(value) is bool,
        "list": type(value) is list,
        "list[str]": type(value) is list,
        "struct": type(value) is dict,
    }[kind]
    if not ok:
        return [(param.name, _MESSAGES[kind])]
    if kind == "list[str]":
        errors = [
            (f"{param.name}.{i}", _MESSAGES["str"])
            for i, item in enumerate(value)
            if type(item) is not str
        ]
        if errors:
            return errors
    if kind in ("str", "list[str]", "struct"):
        return list(_nul_errors(param.name, value))
    return []


def _nul_errors(where: str, value):
    """No name, version or text stored here contains NUL (PostgreSQL refuses it in
    text): a NUL in an argument is refused, rather than failing the query."""
    if type(value) is str:
        if "\x00" in value:
            yield (where, "Input should not contain NUL characters")
    elif type(value) is list:
        for i, item in enumerate(value):
            yield from _nul_errors(f"{where}.{i}", item)
    elif type(value) is dict:
        for key, item in value.items():
            yield from _nul_errors(f"{where}.{key}", item)


def bind_arguments(params: list[Param], values: tuple) -> list:
    """The call's arguments with defaults filled in, or a -32602 Fault listing every
    problem. Extra arguments are named by position counting PyPI's hidden
    ``request`` argument as 0, as its messages do."""
    errors, bound = [], []
    for index, param in enumerate(params):
        if index < len(values):
            errors += _type_errors(param, values[index])
            bound.append(values[index])
        elif param.default is _REQUIRED:
            errors.append((param.name, "Missing required argument"))
        else:
            bound.append(param.default)
    for index in range(len(params), len(values)):
        errors.append((str(index + 1), "Unexpected positional argument"))
    if errors:
        # A call with thousands of bad members gets a short answer, not a long echo.
        raise invalid_params(errors[:MAX_REPORTED_ERRORS])
    return bound


@dataclass(frozen=True)
class Method:
    name: str
    func: Callable
    params: list[Param] = field(default_factory=list)
    # §4: the Fault a switched-off (or removed) method answers.
    disabled_fault: Callable[[], Fault] | None = None
    # Deprecated methods: a function of the raw params giving the replacement URL
    # (or None when there is no HTTP replacement, only the docs).
    successor: Callable[[tuple], str | None] | None = None
    # system.multicall: runs other calls, so it is given the request's budget
    # and bounds each of them itself.
    runs_calls: bool = False

    @property
    def deprecated(self) -> bool:
        return self.successor is not None


METHODS: dict[str, Method] = {}


def xmlrpc_method(name: str, *params: Param, disabled_fault=None, successor=None,
                  runs_calls=False):
    def register(func):
        METHODS[name] = Method(name, func, list(params), disabled_fault, successor, runs_calls)
        return func

    return register


def call_method(name: str | None, params: tuple, budget: Budget | None = None):
    """Run one call within the request's ``budget``; raises Fault for every refusal."""
    method = METHODS.get(name) if isinstance(name, str) else None
    if method is None:
        raise method_not_found()
    disabled = name in settings.XMLRPC_DISABLED_METHODS
    if disabled and method.disabled_fault is None:
        raise method_not_found()
    args = bind_arguments(method.params, params)
    if disabled:
        raise method.disabled_fault()
    if budget is None:
        budget = Budget()
    if method.runs_calls:
        return method.func(*args, budget=budget)
    with budget.bounding_queries():
        return method.func(*args)


# --- replacement URLs for the Deprecation/Link headers ---------------------------------


def _base() -> str:
    return settings.INDEX_BASE_URL


def _simple_index(params) -> str:
    return f"{_base()}/simple/"


def _updates_feed(params) -> str:
    return f"{_base()}/rss/updates.xml"


def _no_successor(params) -> None:
    return None


def _project_json(params) -> str:
    if params and isinstance(params[0], str) and params[0].strip():
        return f"{_base()}/pypi/{quote(normalize_name(params[0]))}/json"
    return _simple_index(params)


def _release_json(params) -> str:
    if len(params) >= 2 and all(isinstance(p, str) and p.strip() for p in params[:2]):
        name, version = quote(normalize_name(params[0])), quote(params[1], safe="")
        return f"{_base()}/pypi/{name}/{version}/json"
    return _project_json(params)


# --- §3: the methods PyPI still serves --------------------------------------------------


def _timestamp(value) -> int:
    return int(value.timestamp())


@xmlrpc_method("changelog_last_serial")
def changelog_last_serial():
    return queries.last_journal_serial()


@xmlrpc_method("changelog_since_serial", Param("since_serial", "int"))
def changelog_since_serial(since_serial):
    if since_serial >= _BIGINT_MAX:
        return []
    rows = queries.journal_since_serial(max(since_serial, -1))
    return [
        [name, version, _timestamp(submitted), clean_for_xml(action), serial]
        for name, version, submitted, action, serial in rows
    ]


@xmlrpc_method("list_packages_with_serial")
def list_packages_with_serial():
    # Every journaled change moves a project's serial, but not every one purges
    # all-projects (a role change purges only its project): the index's serial
    # keys the entry, so the map never lags X-PyPI-Last-Serial.
    # Kept marshalled: at 700,000 projects the XML takes 15 s to write, the
    # cached bytes a fraction of a second to read.
    # (A plain str in the cache, marked as marshalled once read.)
    serial = queries.last_journal_serial()
    return Marshalled(cached_call(
        ALL_PROJECTS, "list_packages_with_serial:xml", [serial],
        lambda: str(marshal_value(queries.project_serials())), ttl=3600,
    ))


@xmlrpc_method("package_roles", Param("package_name", "str"), successor=_project_json)
def package_roles(package_name):
    return cached_call(
        project_key(normalize_name(package_name)), "package_roles", [package_name],
        lambda: [list(row) for row in queries.project_roles(package_name)],
        ttl=48 * 3600,
    )


@xmlrpc_method("user_packages", Param("username", "str"))
def user_packages(username):
    return [list(row) for row in queries.user_roles(username)]


@xmlrpc_method("browse", Param("classifiers", "list[str]"))
def browse(classifiers):
    # PyPI requires as many matched classifiers as were asked for: none asked, or
    # one asked twice, matches nothing.
    if not classifiers or len(set(classifiers)) != len(classifiers):
        return []
    return [list(row) for row in queries.releases_with_classifiers(classifiers)]


# --- §4/§9: deprecated methods, served unless switched off -----------------------------


def _runtime_error(text: str) -> Callable[[], Fault]:
    return lambda: wrapped_error("RuntimeError", text)


def _search_disabled() -> Fault:
    domain = urlsplit(settings.INDEX_BASE_URL).netloc
    return wrapped_error(
        "RuntimeError",
        "PyPI no longer supports 'pip search' (or XML-RPC search). Please use "
        f"https://{domain}/search (via a browser) instead. See {DOCS_URL} for more "
        "information.",
    )


def _no_longer_supported(method: str, replacement: str) -> Callable[[], Fault]:
    return _runtime_error(
        f"PyPI no longer supports the XMLRPC {method} method. Use {replacement} instead. "
        f"See {DOCS_URL} for more information."
    )


_DEPRECATED_API = _runtime_error(
    f"This API has been deprecated. See {DOCS_URL} for more information."
)


def _project_tag(name: str) -> str:
    return project_key(normalize_name(name))


@xmlrpc_method(
    "list_packages",
    disabled_fault=_no_longer_supported("list_packages", "Simple API"),
    successor=_simple_index,
)
def list_packages():
    return cached_call(ALL_PROJECTS, "list_packages", [], queries.project_names, ttl=3600)


def _package_releases(package_name, show_hidden):
    project = find_visible_project(package_name)
    if project is None:
        return []
    ordered = queries.releases_in_order(project)
    if show_hidden:
        return [r.version for r in reversed(ordered)]
    latest = queries.newest_release(ordered)
    return [latest.version] if latest is not None else []


@xmlrpc_method(
    "package_releases",
    Param("package_name", "str"),
    Param("show_hidden", "bool", False),
    disabled_fault=_no_longer_supported("package_releases", "JSON or Simple API"),
    successor=_project_json,
)
def package_releases(package_name, show_hidden=False):
    return cached_call(
        _project_tag(package_name), "package_releases", [package_name, show_hidden],
        lambda: _package_releases(package_name, show_hidden), ttl=48 * 3600,
    )


def _upload_time(value) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _release_urls(package_name, version):
    base = _base()
    files = []
    for f in queries.release_files(package_name, version):
        uploaded = _upload_time(f.upload_time)
        files.append({
            "filename": f.filename,
            "packagetype": f.packagetype,
            "python_version": f.python_version,
            "size": f.size,
            "md5_digest": f.md5_digest,
            "sha256_digest": f.sha256_digest,
            "digests": {"md5": f.md5_digest, "sha256": f.sha256_digest},
            "has_sig": False,
            "upload_time": uploaded,
            "upload_time_iso_8601": uploaded,
            "comment_text": f.comment_text,
            "downloads": -1,
            "path": f.path.removeprefix("packages/"),
            "url": f"{base}/{f.path}",
        })
    return files


def _release_data(package_name, version):
    release, ordering = queries.find_release(package_name, version)
    if release is None:
        return {}
    project = release.project

    def text(value):
        return clean_for_xml(value) if value else None

    def project_url_label(entry: str) -> str:
        return entry.split(",", 1)[0].strip()

    base = _base()
    return {
        "name": project.name,
        "version": release.version,
        "stable_version": None,
        "bugtrack_url": None,
        "package_url": f"{base}/project/{project.name}/",
        "release_url": f"{base}/project/{project.name}/{release.version}/",
        "docs_url": None,
        "home_page": text(release.home_page),
        "download_url": text(release.download_url),
        "project_url": [
            clean_for_xml(entry) for entry in sorted(release.project_urls, key=project_url_label)
        ],
        "author": text(release.author),
        "author_email": text(release.author_email),
        "maintainer": text(release.maintainer),
        "maintainer_email": text(release.maintainer_email),
        "summary": text(release.summary),
        "description": clean_for_xml(release.description or ""),
        "license": text(release.license),
        "keywords": text(release.keywords),
        "platform": ", ".join(release.platforms) or None,
        "classifiers": queries.in_trove_order(release.classifiers),
        "requires": [],
        "requires_dist": list(release.requires_dist),
        "provides": [],
        "provides_dist": list(release.provides_dist),
        "obsoletes": [],
        "obsoletes_dist": list(release.obsoletes_dist),
        "requires_python": release.requires_python or None,
        "requires_external": list(release.requires_external),
        "_pypi_ordering": ordering,
        "downloads": {"last_day": -1, "last_week": -1, "last_month": -1},
        "cheesecake_code_kwalitee_id": None,
        "cheesecake_documentation_id": None,
        "cheesecake_installability_id": None,
    }


_RELEASE_PARAMS = (Param("package_name", "str"), Param("version", "str"))


def _cached_release_method(name: str, compute):
    def method(package_name, version):
        return cached_call(
            _project_tag(package_name), name, [package_name, version],
            lambda: compute(package_name, version), ttl=48 * 3600,
        )

    return method


# (name, computation, Fault when disabled); the package_* names are legacy
# PyPI's plain aliases (spec §9.1).
_RELEASE_METHODS = (
    ("release_urls", _release_urls, _no_longer_supported("release_urls", "JSON or Simple API")),
    ("release_data", _release_data, _no_longer_supported("release_data", "JSON or Simple API")),
    ("package_urls", _release_urls, _DEPRECATED_API),
    ("package_data", _release_data, _DEPRECATED_API),
)
for _name, _compute, _disabled_fault in _RELEASE_METHODS:
    xmlrpc_method(
        _name, *_RELEASE_PARAMS, disabled_fault=_disabled_fault, successor=_release_json
    )(_cached_release_method(_name, _compute))


@xmlrpc_method(
    "search",
    Param("spec", "struct"),
    Param("operator", "str", "and"),
    disabled_fault=_search_disabled,
    successor=_simple_index,
)
def search(spec, operator="and"):
    if operator not in {"and", "or"}:
        raise wrapped_error("ValueError", "Invalid operator, must be one of 'and' or 'or'.")
    wanted: dict[str, list[str]] = {}
    for key, value in spec.items():
        if key not in queries.SEARCH_FIELDS or not value:
            continue
        values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        values = [v for v in values if isinstance(v, str) and v]
        if values:
            wanted[key] = values
    if not wanted:
        return []
    results = []
    for hit in queries.search_projects(wanted, operator):
        release = hit["release"]
        summary = clean_for_xml(release.summary) or None
        versions = (
            [v for v in hit["versions"] if v in wanted["version"]]
            if "version" in wanted else [release.version]
        )
        results += [
            {"name": release.project.name, "summary": summary, "version": v,
             "_pypi_ordering": False}
            for v in versions
        ]
    return results


@xmlrpc_method(
    "changelog",
    Param("since", "int"),
    Param("with_ids", "bool", False),
    disabled_fault=lambda: wrapped_error(
        "ValueError",
        "The changelog method has been deprecated, use changelog_since_serial instead.",
    ),
    successor=_updates_feed,
)
def changelog(since, with_ids=False):
    rows = queries.journal_since_date(queries.utc_datetime(since))
    return [
        [name, version, _timestamp(submitted), action, *([serial] if with_ids else [])]
        for name, version, submitted, action, serial in rows
    ]


def _multicall_fault(fault: Fault) -> dict:
    return {"faultCode": fault.faultCode, "faultString": fault.faultString}


@xmlrpc_method(
    "system.multicall",
    Param("calls", "list"),
    disabled_fault=lambda: wrapped_error(
        "ValueError",
        "MultiCall requests have been deprecated, use individual requests instead.",
    ),
    successor=_no_successor,
    runs_calls=True,
)
def system_multicall(calls, *, budget: Budget):
    """CPython's SimpleXMLRPCDispatcher semantics (legacy PyPI): ``[result]`` per
    success, ``{faultCode, faultString}`` per failure. Legacy PyPI allowed 100
    calls; here XMLRPC_MAX_MULTICALL_CALLS, and the calls left when the request's
    time budget is spent answer a Fault each instead of running."""
    limit = max_multicall_calls()
    if len(calls) > limit:
        raise wrapped_error("ValueError", f"MultiCall requests are limited to {limit} calls.")
    results = []
    for call in calls:
        if budget.spent:
            results.append(_multicall_fault(budget_spent(budget.seconds)))
            continue
        try:
            if type(call) is not dict:
                raise invalid_params([("calls", "Input should be a valid dictionary")])
            name, params = call.get("methodName"), call.get("params", [])
            if type(name) is not str:
                raise invalid_params([("methodName", "Input should be a valid string")])
            if type(params) is not list:
                raise invalid_params([("params", "Input should be a valid list")])
            if name == "system.multicall":
                raise wrapped_error("ValueError", "Recursive system.multicall is forbidden.")
            results.append([call_method(name, tuple(params), budget)])
        except Fault as fault:
            results.append(_multicall_fault(fault))
        except Exception:
            logger.exception("XML-RPC multicall member %r failed", call)
            results.append(_multicall_fault(application_error()))
    return results


@xmlrpc_method(
    "top_packages",
    Param("num", "int|None", None),
    successor=_no_successor,
    disabled_fault=_runtime_error(
        f"This API has been removed. Use BigQuery instead. See {DOCS_URL} for more "
        "information."
    ),
)
def top_packages(num=None):
    raise METHODS["top_packages"].disabled_fault()
