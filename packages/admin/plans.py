"""What each curation action will change, for its confirmation page
(packages.admin.confirm): one Planned per selected object, in plain sentences,
including the journal entry it writes and the cache keys it purges."""

from packages.admin.confirm import Planned
from packages.cache.keys import keys_for_project
from packages.curation.projects import status_action
from packages.models import ApiToken, Project, ProjectStatus, Release, RoleName


def _bookkeeping(project: Project, action: str, version: str | None = None) -> list[str]:
    subject = f"{project.name} {version}" if version else project.name
    return [
        f"Journal entry: '{action}' for {subject} (moves the serial; cached pages refresh).",
        f"Cache purge after commit: {', '.join(keys_for_project(project))}.",
    ]


def _files_line(release: Release) -> str:
    names = [f.filename for f in release.files.all()]
    return f"Its {len(names)} file(s): {', '.join(names) or '(none)'}."


def yank(release: Release):
    lines = [
        "Marked yanked (PEP 592) with the reason below: pip and uv skip it unless a "
        "requirement pins it with ==.",
        _files_line(release) + " They stay listed and downloadable.",
    ]
    if release.yanked:
        lines.insert(0, f"Already yanked (reason: '{release.yanked_reason}'); only a different "
                        "reason changes anything.")
    return Planned(release, lines + _bookkeeping(release.project, "yank release",
                                                 release.version))


def unyank(release: Release):
    if not release.yanked:
        return Planned(release, ["Not yanked: nothing changes."], noop=True)
    return Planned(release, [
        f"The yank (reason: '{release.yanked_reason}') is removed: clients select it again.",
        *_bookkeeping(release.project, "unyank release", release.version),
    ])


def quarantine_release(release: Release):
    lines = [
        "Hidden from /simple/, the JSON API, the feeds and XML-RPC; its files are no longer "
        "served. The rest of the project stays.",
        _files_line(release),
    ]
    if release.quarantined:
        lines.insert(0, "Already quarantined; only a different reason changes anything.")
    return Planned(release, lines + _bookkeeping(release.project, "release quarantined",
                                                 release.version))


def clear_release_quarantine(release: Release):
    if not release.quarantined:
        return Planned(release, ["Not quarantined: nothing changes."], noop=True)
    return Planned(release, [
        "Shown again on every API; its files are served again.", _files_line(release),
        *_bookkeeping(release.project, "release quarantine cleared", release.version),
    ])


_STATUS_EFFECT = {
    ProjectStatus.ACTIVE: "active: visible, installable and open to uploads",
    ProjectStatus.ARCHIVED: "archived: no new uploads; still listed and installable "
                            "(PEP 792 marker on its pages)",
    ProjectStatus.DEPRECATED: "deprecated: still installable; the message below goes out as "
                              "its PEP 792 status reason",
    ProjectStatus.QUARANTINED: "quarantined: hidden from /simple/, the JSON API, the feeds "
                               "and XML-RPC, its files not served, uploads refused",
}


def project_status(status: str, *, allowed_from=None):
    """A planner for a change of project status."""
    def plan(project: Project):
        if allowed_from is not None and project.status not in allowed_from:
            return Planned(project, [f"Its status is {project.status}: nothing changes."],
                           noop=True)
        lines = [f"Status {project.status} → {_STATUS_EFFECT[status]}."]
        if project.status == status:
            lines = [f"Already {status}; only a different reason changes anything."]
        return Planned(project, lines + _bookkeeping(
            project, status_action(project.status, status)))

    return plan


def approve(project: Project):
    if project.status != ProjectStatus.PENDING:
        return Planned(project, [f"Not pending ({project.status}): nothing changes."],
                       noop=True)
    files = project.releases.values_list("files__filename", flat=True)
    return Planned(project, [
        "Pending → active: listed on every API and installable by everyone.",
        f"Files that become installable: {', '.join(f for f in files if f) or '(none yet)'}.",
        *_bookkeeping(project, "project approved"),
    ])


def refuse(project: Project):
    if project.status != ProjectStatus.PENDING:
        return Planned(project, [f"Not pending ({project.status}): nothing changes."],
                       noop=True)
    return Planned(project, [
        "Pending → quarantined with the reason below: it stays hidden and its name stays "
        "taken (only a superuser may delete it).",
        *_bookkeeping(project, "project refused"),
    ])


def transfer(project: Project):
    owners = project.roles.filter(role_name=RoleName.OWNER).select_related("user", "group")
    held = ", ".join(f"{r.holder_name} ({'team' if r.group_id else 'user'})" for r in owners)
    return Planned(project, [
        "The user or team chosen below becomes the only Owner.",
        f"Current owners, who lose the Owner role (or become Maintainers if ticked below), "
        f"unless they are the one chosen: {held or '(none)'}.",
        "Journal entries: 'transfer ownership to …' and one per role added or removed.",
        f"Cache purge after commit: {', '.join(keys_for_project(project))}.",
    ])


def revoke(token: ApiToken):
    if token.revoked is not None:
        return Planned(token, [f"Already revoked ({token.revoked:%Y-%m-%d %H:%M}): nothing "
                               "changes."], noop=True)
    used = f"{token.last_used:%Y-%m-%d %H:%M}" if token.last_used else "never"
    return Planned(token, [
        f"Revoked at once: uploads and reads with it are refused from now on (user "
        f"{token.user}, last used {used}).",
        "Nothing cached depends on a token; the revocation is kept in the admin's history.",
    ])
