"""What the proxy answers instead of a page or a file. Each carries the sentence
the client sees and the status the view answers with (DomainError's contract)."""

from packages.errors import DomainError


class UpstreamNotFound(DomainError):
    """404 with a reason: blocked, awaiting approval, refused, filtered out."""

    status = 404


class UpstreamUnavailable(DomainError):
    """502: the upstream failed or sent something refused; nothing was kept."""

    status = 502

    def __init__(self, upstream_name: str, problem: str):
        super().__init__(f"Upstream '{upstream_name}' {problem}.")
        self.upstream_name = upstream_name


class UpstreamTimeout(UpstreamUnavailable):
    """504: the upstream did not answer in time."""

    status = 504


class HostileUpstream(UpstreamUnavailable):
    """502: the upstream sent what is refused (a path in a filename, a link to
    another host, an oversized page, a wrong hash)."""

    def __init__(self, upstream_name: str, problem: str):
        super().__init__(upstream_name, f"refused: {problem}")


class UpstreamBusy(UpstreamUnavailable):
    """503: this process already runs as many fetches from the upstream as
    INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES allows, and none ended in time."""

    status = 503
    retry_after = 5  # seconds; a fetch of a page or a small file ends sooner than that
