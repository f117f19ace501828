"""indexsite settings: every value comes from the environment, the default in the call.

A bare checkout runs on SQLite, local file storage, an in-process cache and eager
Celery tasks; DATABASE_URL, CACHE_URL, CELERY_BROKER_URL and the AWS_* variables
switch on the production parts (see README "Production").
"""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from indexsite.database_url import database_from_url
from indexsite.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# The embedded default keeps its SQLite file and distribution files here
# (created when Django starts, by packages.apps, not when settings are read).
DATA_DIR = Path(env_str("INDEX_DATA_DIR", str(BASE_DIR / "data"))).resolve()

INSECURE_DEFAULT_SECRET_KEY = "insecure-development-key-change-me"
SECRET_KEY = env_str("SECRET_KEY", INSECURE_DEFAULT_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
# Serving with DEBUG off and this default is refused in indexsite/wsgi.py;
# management commands still run so that a fresh checkout can be set up.
INSECURE_SECRET_KEY_IN_USE = SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
# The origin clients see, used for absolute links in the JSON API and feeds. The
# pages for people use it once it is set to another value; at the embedded default
# they use the address each request reached (api/pages.py public_base_url).
INDEX_BASE_URL_DEFAULT = "http://127.0.0.1:8000"
INDEX_BASE_URL = env_str("INDEX_BASE_URL", INDEX_BASE_URL_DEFAULT).rstrip("/")
# The name pages and feeds show for this index (never "PyPI").
INDEX_NAME = env_str("INDEX_NAME", "indexsite")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [INDEX_BASE_URL])

# HTTPS in production (README "Production"). Off in the embedded default, which
# serves plain HTTP on loopback. No proxy header is believed unless named here,
# e.g. SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https behind nginx.
_proxy_ssl_header = env_list("SECURE_PROXY_SSL_HEADER", [])
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER is 'HEADER,value', e.g. "
                               "HTTP_X_FORWARDED_PROTO,https")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) or None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.syndication",
    "rest_framework",
    "drf_spectacular",
    "storages",
    "axes",
    "packages",
    "api",
    "feeds",
    "legacy",
    "xmlrpc",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The admin's CSS and JS, served by the app itself (gunicorn alone is styled).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "indexsite.middleware.RejectNulMiddleware",
    "indexsite.middleware.StatementTimeoutMiddleware",
    "packages.access.ban_middleware.ConsumerPolicyMiddleware",
    "packages.access.read_auth.ReadAuthMiddleware",
    # The hot path: views their URLconf marks (simple project pages, cached JSON
    # documents) answer GET/HEAD here, skipping the session/CSRF/auth/messages
    # work below that they never use.
    "packages.http.hot_path.HotPathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns an admin login refused by django-axes into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "indexsite.urls"
CSRF_FAILURE_VIEW = "legacy.csrf.csrf_failure"
WSGI_APPLICATION = "indexsite.wsgi.application"
# /simple/Foo and /simple/foo/ are handled by our own redirects (PEP 503), not APPEND_SLASH.
APPEND_SLASH = True

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", ""), sqlite_default=DATA_DIR / "index.sqlite3"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "indexsite"),
            "TIMEOUT": env_int("CACHE_TIMEOUT", 24 * 3600),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "indexsite",
            "TIMEOUT": env_int("CACHE_TIMEOUT", 24 * 3600),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# Files: local filesystem under the data folder by default, S3 with
# INDEX_STORAGE=s3 and django-storages' own AWS_* settings.
INDEX_STORAGE = env_str("INDEX_STORAGE", "local")
INDEX_FILES_DIR = Path(env_str("INDEX_FILES_DIR", str(DATA_DIR / "files"))).resolve()
if INDEX_STORAGE == "s3":
    AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "indexsite")
    AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL", "") or None
    AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME", "") or None
    AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID", "") or None
    AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY", "") or None
    AWS_QUERYSTRING_AUTH = env_bool("AWS_QUERYSTRING_AUTH", True)
    AWS_QUERYSTRING_EXPIRE = env_int("AWS_QUERYSTRING_EXPIRE", 3600)
    AWS_S3_FILE_OVERWRITE = False
    AWS_DEFAULT_ACL = None
    _distributions_storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {}}
elif INDEX_STORAGE == "local":
    _distributions_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(INDEX_FILES_DIR), "base_url": "/packages/"},
    }
else:
    raise ImproperlyConfigured("INDEX_STORAGE must be 'local' or 's3'")
STORAGES = {
    "default": _distributions_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# In production a Python worker never streams a distribution: with local storage
# behind nginx, set this to the internal location prefix (e.g. "/_files/") and
# responses carry X-Accel-Redirect instead of the bytes.
INDEX_FILES_ACCEL_REDIRECT = env_str("INDEX_FILES_ACCEL_REDIRECT", "")

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# Without `collectstatic`, WhiteNoise finds the admin's files in the apps (read at
# startup); after it, STATIC_ROOT is served.
WHITENOISE_USE_FINDERS = True

# Celery: no broker means tasks run eagerly in-process (the embedded default).
CELERY_TASK_ALWAYS_EAGER = not env_str("CELERY_BROKER_URL", "")
# The in-memory transport carries no eager task, but Celery still opens a producer
# on it (for the serializer): naming a host keeps kombu from logging "No hostname
# was supplied" on every change in the embedded default.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# `celery -A indexsite beat` keeps when it last ran each entry in this file.
CELERY_BEAT_SCHEDULE_FILENAME = env_str(
    "CELERY_BEAT_SCHEDULE_FILENAME", str(DATA_DIR / "celerybeat-schedule"))

# Upload policy. PyPI's own policies that make no sense for a private index are
# settings, off by default.
INDEX_MAX_FILE_SIZE = env_int("INDEX_MAX_FILE_SIZE", 100 * 1024 * 1024)
INDEX_MAX_PROJECT_SIZE = env_int("INDEX_MAX_PROJECT_SIZE", 10 * 1024 * 1024 * 1024)
INDEX_ALLOW_PASSWORD_UPLOAD = env_bool("INDEX_ALLOW_PASSWORD_UPLOAD", False)
# PyPI refuses new files for releases older than 14 days; 0 switches that off.
INDEX_OLD_RELEASE_UPLOAD_DAYS = env_int("INDEX_OLD_RELEASE_UPLOAD_DAYS", 0)
INDEX_ONE_SDIST_PER_RELEASE = env_bool("INDEX_ONE_SDIST_PER_RELEASE", False)
# PyPI accepts wheels only for its list of platform tags (no plain linux_x86_64).
INDEX_PYPI_PLATFORM_TAGS_ONLY = env_bool("INDEX_PYPI_PLATFORM_TAGS_ONLY", False)
# Largest uncompressed/compressed ratio accepted for a member of an archive.
INDEX_MAX_COMPRESSION_RATIO = env_int("INDEX_MAX_COMPRESSION_RATIO", 50)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Upload files go to disk (streamed), never into memory beyond this.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
FILE_UPLOAD_TEMP_DIR = env_str("FILE_UPLOAD_TEMP_DIR", "") or None

# Who may create a project by uploading (packages/curation/creation.py): "any" authenticated
# uploader; "prefix-team", members of the team owning a reserved name or prefix that
# covers it; "moderated", anyone, but the project stays pending (hidden, not
# installable) until a curator approves it in the admin.
INDEX_PROJECT_CREATION = env_str("INDEX_PROJECT_CREATION", "any")
if INDEX_PROJECT_CREATION not in {"any", "prefix-team", "moderated"}:
    raise ImproperlyConfigured(
        "INDEX_PROJECT_CREATION must be 'any', 'prefix-team' or 'moderated'")

# Reads: "public" (default) or "authenticated" (every read needs HTTP Basic).
INDEX_READ_AUTH = env_str("INDEX_READ_AUTH", "public")
if INDEX_READ_AUTH not in {"public", "authenticated"}:
    raise ImproperlyConfigured("INDEX_READ_AUTH must be 'public' or 'authenticated'")

# Failed password logins: after INDEX_AUTH_FAILURE_LIMIT failures within
# INDEX_AUTH_FAILURE_WINDOW seconds for one client address or one username,
# password logins answer 429 for that many seconds, without hashing anything.
# HTTP Basic passwords (reads, uploads): packages/access/throttle.py, which also
# remembers a verified password for INDEX_AUTH_VERIFIED_SECONDS (0 = hash every
# request). The admin login form: django-axes below, with the same limits.
INDEX_AUTH_FAILURE_LIMIT = env_int("INDEX_AUTH_FAILURE_LIMIT", 10)
INDEX_AUTH_FAILURE_WINDOW = env_int("INDEX_AUTH_FAILURE_WINDOW", 300)
INDEX_AUTH_VERIFIED_SECONDS = env_int("INDEX_AUTH_VERIFIED_SECONDS", 60)
if INDEX_AUTH_FAILURE_LIMIT < 1 or INDEX_AUTH_FAILURE_WINDOW < 1:
    raise ImproperlyConfigured("INDEX_AUTH_FAILURE_LIMIT and INDEX_AUTH_FAILURE_WINDOW must be >= 1")
AUTHENTICATION_BACKENDS = [
    # Refuses logins while locked out and counts failures (it needs the request);
    # the HTTP Basic read path calls ModelBackend itself and is not counted here.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = INDEX_AUTH_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=INDEX_AUTH_FAILURE_WINDOW)
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "packages.access.throttle.client_ip_for_axes"
AXES_LOCKOUT_CALLABLE = "packages.access.throttle.admin_lockout_response"

# Behind a proxy: how many X-Forwarded-For hops to trust (0 = use REMOTE_ADDR).
INDEX_TRUSTED_PROXY_HOPS = env_int("INDEX_TRUSTED_PROXY_HOPS", 0)
# A CDN/Varnish in front: purges go to these URLs (PURGE with X-Purge-Key), a
# comma-separated list, one per node (every node is purged); empty = none.
INDEX_CDN_PURGE_URL = env_list("INDEX_CDN_PURGE_URL", [])
# Purges lost (broker or a node down) are caught up from the journal and the
# pending purges of unjournaled changes by a Celery beat task every this many
# seconds (packages/cache/catchup.py); 0 = never. At most INDEX_CDN_CATCHUP_BATCH
# journal entries (and pending purges) per run, the rest in the next runs.
INDEX_CDN_CATCHUP_SECONDS = env_int("INDEX_CDN_CATCHUP_SECONDS", 30)
INDEX_CDN_CATCHUP_BATCH = env_int("INDEX_CDN_CATCHUP_BATCH", 5000)
# Run by `celery -A indexsite beat` (one beat process for the whole deployment).
CELERY_BEAT_SCHEDULE = {
    "catch-up-cdn-purges": {
        "task": "packages.tasks.catch_up_cdn_purges",
        "schedule": float(INDEX_CDN_CATCHUP_SECONDS),
        # A run left queued (no worker) is worthless once the next one is due.
        "options": {"expires": float(INDEX_CDN_CATCHUP_SECONDS)},
    },
} if INDEX_CDN_CATCHUP_SECONDS > 0 else {}

# The upstream proxy (packages/upstream; shared/spec/upstream.md). None by default: the
# embedded default works offline. INDEX_UPSTREAM_URL adds one (e.g. https://pypi.org/simple/).
INDEX_UPSTREAM_URL = env_str("INDEX_UPSTREAM_URL", "")
# "open": every upstream project; "approval": curators approve each project first.
INDEX_UPSTREAM_MODE = env_str("INDEX_UPSTREAM_MODE", "open")
if INDEX_UPSTREAM_MODE not in {"open", "approval"}:
    raise ImproperlyConfigured("INDEX_UPSTREAM_MODE must be 'open' or 'approval'")
# Minimum age (seconds, from the upstream's upload-time) before an upstream file is listed; 0 = off.
INDEX_UPSTREAM_COOLDOWN = env_int("INDEX_UPSTREAM_COOLDOWN", 0)
# Kept pages are revalidated (If-None-Match/If-Modified-Since) after this many seconds.
INDEX_UPSTREAM_REVALIDATE = env_int("INDEX_UPSTREAM_REVALIDATE", 600)
# While an upstream fails, kept pages are served up to this age in seconds (0 = any age).
INDEX_UPSTREAM_MAX_STALE = env_int("INDEX_UPSTREAM_MAX_STALE", 0)
# The longest a request waits for an upstream: connect, whole page, first byte of a file.
INDEX_UPSTREAM_TIMEOUT = env_int("INDEX_UPSTREAM_TIMEOUT", 20)
# Upstream pages larger than this are refused (502), read in a streaming way.
INDEX_UPSTREAM_MAX_PAGE_BYTES = env_int("INDEX_UPSTREAM_MAX_PAGE_BYTES", 20 * 1024 * 1024)
# Largest upstream file when its page declares no size.
INDEX_UPSTREAM_MAX_FILE_BYTES = env_int("INDEX_UPSTREAM_MAX_FILE_BYTES", 4 * 1024 ** 3)
# Fetches (pages and first downloads of files) one process runs at once from one
# upstream; a request finding them all taken waits up to INDEX_UPSTREAM_TIMEOUT,
# then gets 503 naming the upstream (a kept page is served stale instead).
INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES = env_int("INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES", 10)
if INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES < 1:
    raise ImproperlyConfigured("INDEX_UPSTREAM_MAX_CONCURRENT_FETCHES must be at least 1")

# XML-RPC (names as Warehouse's).
XMLRPC_RATELIMIT_STRING = env_str("XMLRPC_RATELIMIT_STRING", "3600 per hour")
XMLRPC_DISABLED_METHODS = env_list("XMLRPC_DISABLED_METHODS", [])
XMLRPC_MAX_BODY_SIZE = env_int("XMLRPC_MAX_BODY_SIZE", 1024 * 1024)
# One XML-RPC request: at most this many calls in a system.multicall (legacy
# PyPI's cap), and this many seconds of work: after it, its queries are cancelled
# and the calls left answer a Fault, so no request holds a worker for long.
XMLRPC_MAX_MULTICALL_CALLS = env_int("XMLRPC_MAX_MULTICALL_CALLS", 100)
XMLRPC_REQUEST_TIME_BUDGET = env_int("XMLRPC_REQUEST_TIME_BUDGET", 5)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "indexsite JSON API",
    "DESCRIPTION": "PyPI-compatible JSON API of a private package index.",
    "VERSION": "1.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Django's full set: passwords guard the admin and, with private reads, the index.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
