# Varnish in front of indexsite: caches the public API responses (simple, JSON,
# RSS, files) and drops them by surrogate key when the index purges
# (INDEX_CDN_PURGE_URL=http://<varnish>/[,http://<another>/...] ; see
# packages/cache/cdn.py). The backend address is filled in by whoever starts
# varnishd (tests: a template). Needs the xkey vmod (Debian: varnish-modules).
vcl 4.1;

import std;
import xkey;

backend default {
    .host = "@BACKEND_HOST@";
    .port = "@BACKEND_PORT@";
}

# Who may send PURGE: the web nodes and Celery workers (they purge after every
# change, see INDEX_CDN_PURGE_URL). Edit this list for your deployment, one
# address or network per line ("10.0.0.0"/8 style); everyone else gets 405.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "Purging not allowed"));
        }
        if (!req.http.X-Purge-Key) {
            return (synth(400, "X-Purge-Key missing"));
        }
        # The key grammar of packages/cache/: "all-projects", "project/<name>"
        # with a PEP 503 normalized name. Anything else (".*" would match every
        # object) is refused before it reaches the ban's regular expression.
        if (req.http.X-Purge-Key !~ "^[a-z0-9-]{1,64}(/[a-z0-9-]{1,200})?$") {
            return (synth(400, "Invalid X-Purge-Key"));
        }
        # xkey indexes every object under each key of its Surrogate-Key (copied
        # to the xkey header below), so a purge touches only the objects tagged
        # with this key, without a ban list that every lookup is checked against.
        # A hard purge: PyPI soft-purges, but a private index prefers never
        # serving a yanked or deleted file's page again once the purge answered.
        set req.http.X-Purged-Objects = xkey.purge(req.http.X-Purge-Key);
        return (synth(200, "Purged " + req.http.X-Purged-Objects));
    }
    # As PyPI's edge: fragments and query strings do not address other objects
    # for file downloads.
    if (req.url ~ "^/packages/") {
        set req.url = regsub(req.url, "[?#].*$", "");
    }
    # The APIs use no cookies; requests with Authorization (private reads) pass
    # through Varnish's built-in rule and are never cached.
    if (req.url ~ "^/(simple|pypi|rss|packages)/") {
        unset req.http.Cookie;
    }
}

sub vcl_backend_response {
    # xkey reads the keys of an object from its xkey header (space-separated,
    # the same grammar as Surrogate-Key).
    if (beresp.http.Surrogate-Key) {
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    }
    # Surrogate-Control is for the CDN: it wins over Cache-Control's max-age.
    if (beresp.http.Surrogate-Control ~ "max-age=[0-9]+") {
        set beresp.ttl = std.duration(
            regsub(beresp.http.Surrogate-Control, ".*max-age=([0-9]+).*", "\1") + "s", 600s);
    }
    if (beresp.http.Surrogate-Control ~ "stale-while-revalidate=[0-9]+") {
        set beresp.grace = std.duration(
            regsub(beresp.http.Surrogate-Control, ".*stale-while-revalidate=([0-9]+).*", "\1")
            + "s", 0s);
    } else {
        # Without stale-while-revalidate nothing is served past its max-age: an
        # upstream page's max-age ends when a cooldown ends or its copy is due
        # for revalidation, and Varnish's default grace (10 s) would serve the
        # old page once more after that.
        set beresp.grace = 0s;
    }
}

sub vcl_deliver {
    # PyPI's documented way to tell a cache hit.
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    set resp.http.X-Cache-Hits = obj.hits;
    unset resp.http.Surrogate-Control;
    unset resp.http.xkey;
}

sub vcl_synth {
    # How many objects a PURGE dropped, for the purger's logs and the tests.
    if (req.method == "PURGE" && req.http.X-Purged-Objects) {
        set resp.http.X-Purged-Objects = req.http.X-Purged-Objects;
    }
}
