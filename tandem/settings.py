"""Tandem's one settings module: everything comes from the environment.

Safe by default: debug off, no built-in secret key outside debug mode, and a
bad value stops start-up naming its variable (see core/env.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from tandem.core.env import env_bind, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("TANDEM_DATA_DIR", str(Path.cwd() / "data"))).resolve()

DEBUG = env_bool("TANDEM_DEBUG", False)
TESTING = "pytest" in sys.modules or env_bool("TANDEM_TESTING", False)
# `makemigrations` only compares the models with their migrations, and mypy's Django
# plugin only reads them: neither serves nor signs anything, so a checkout, CI or a
# hook can run them without a deployment's secrets.
SCHEMA_ONLY = sys.argv[1:2] == ["makemigrations"] or "mypy" in sys.modules
LOCAL_DEFAULTS = DEBUG or TESTING or SCHEMA_ONLY  # a throwaway key and local hosts will do

SECRET_KEY = env_str("TANDEM_SECRET_KEY")
if not SECRET_KEY:
    if LOCAL_DEFAULTS:
        SECRET_KEY = "insecure-dev-only-key-" + "x" * 40
    else:
        raise ImproperlyConfigured(
            "TANDEM_SECRET_KEY is not set: set it to a long random string "
            "(or TANDEM_DEBUG=true for local development)."
        )

ALLOWED_HOSTS = env_list(
    "TANDEM_ALLOWED_HOSTS",
    ["localhost", "127.0.0.1", "[::1]"] if LOCAL_DEFAULTS else [],
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "TANDEM_ALLOWED_HOSTS is not set: list the host names, comma-separated."
    )
CSRF_TRUSTED_ORIGINS = env_list("TANDEM_CSRF_TRUSTED_ORIGINS", [])
TANDEM_BIND = env_bind("TANDEM_BIND", "127.0.0.1:8000")
# One process per core, two threads each: a slow page (a big export) does not hold up
# the requests behind it; more threads cost throughput, as Python threads share a core
# (measured: docs/benchmarks.md, web-form capture).
TANDEM_WEB_WORKERS = env_int("TANDEM_WEB_WORKERS", os.cpu_count() or 1, minimum=1)
TANDEM_WEB_THREADS = env_int("TANDEM_WEB_THREADS", 2, minimum=1)
# Revenue (deals, attribution, campaign costs) is reported in this ISO 4217 currency.
TANDEM_BASE_CURRENCY = env_str("TANDEM_BASE_CURRENCY", "EUR").strip().upper()[:3] or "EUR"
TANDEM_BASE_URL = env_str("TANDEM_BASE_URL", f"http://{TANDEM_BIND}")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # serves the API docs' Swagger UI from our static files, not a CDN
    "tandem.core",
    "tandem.accounts",
    "tandem.people",
    "tandem.campaigns",
    "tandem.capture",
    "tandem.imports",
    "tandem.dedup",
    "tandem.scoring",
    "tandem.notifications",
    "tandem.sla",
    "tandem.followups",
    "tandem.routing",
    "tandem.deals",
    "tandem.attribution",
    "tandem.reports",
    "tandem.demo",
]
if env_str("TANDEM_TASKS", "").startswith("redis"):
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tandem.core.csp.ContentSecurityPolicyMiddleware",
    "tandem.capture.middleware.PublicCaptureMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tandem.core.middleware.NotFoundPageMiddleware",
]

# Content-Security-Policy (tandem/core/csp.py; the shape of Django 6.0's SECURE_CSP).
# Scripts only from our own origin and never inline. Inline styles stay allowed:
# bar widths are style attributes and htmx adds its indicator style; CSS runs no code.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "worker-src": ["'self'"],
    "manifest-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

ROOT_URLCONF = "tandem.urls"
WSGI_APPLICATION = "tandem.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

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
                "tandem.accounts.context_processors.navigation",
                "tandem.notifications.context_processors.bell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite, however it is named (no DATABASE_URL, sqlite://, sqlite:///relative or
# sqlite:////absolute), is one file in WAL mode with IMMEDIATE transactions and the same
# busy timeout (ADR 0002): concurrent writers queue instead of failing with "database is
# locked". `sqlite://` alone is the default file in DATA_DIR.
CONN_MAX_AGE = env_int("TANDEM_CONN_MAX_AGE", 600, minimum=0)
# How long a write waits for another's lock before it gives up: SQLite's busy timeout;
# on PostgreSQL, lock_timeout, only when set (PostgreSQL waits for row locks by default).
_lock_timeout_set = bool(env_str("TANDEM_DB_LOCK_TIMEOUT_MS"))
TANDEM_DB_LOCK_TIMEOUT_MS = env_int("TANDEM_DB_LOCK_TIMEOUT_MS", 20_000, minimum=1)
# How often the worker's scheduled rescore brings score decay up to date (scoring/tasks.py).
TANDEM_SCORING_DECAY_HOURS = env_int("TANDEM_SCORING_DECAY_HOURS", 24, minimum=1)
_database_url = env_str("DATABASE_URL")


def _sqlite_database(name: str) -> dict[str, Any]:
    """The settings of every SQLite database, whatever names it."""
    if name in ("", ":memory:") and _database_url.rstrip("/") not in ("", "sqlite:"):
        raise ImproperlyConfigured(
            f"DATABASE_URL={_database_url!r}: an in-memory database is not shared by the web "
            "server and the worker; name a file, e.g. sqlite:////var/lib/tandem/tandem.sqlite3"
        )
    if name in ("", ":memory:"):
        path = DATA_DIR / "tandem.sqlite3"
    else:
        path = Path(name).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "CONN_MAX_AGE": CONN_MAX_AGE,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": TANDEM_DB_LOCK_TIMEOUT_MS / 1000,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                f"PRAGMA busy_timeout={TANDEM_DB_LOCK_TIMEOUT_MS};"
                "PRAGMA cache_size=-65536;"
                "PRAGMA mmap_size=268435456;"
                "PRAGMA temp_store=MEMORY;"
                # Checkpoints every 4,000 WAL pages (16 MB), not SQLite's 1,000: a page
                # rewritten often (an index's, a table's last) is copied into the database
                # once per checkpoint, and the one that crosses the mark (the worker's drain,
                # under a burst of posts) copies and syncs them. `bench.capture_e2e --db
                # sqlite`, alternated: 0.63-0.64x of the floor with 1,000, 0.68-0.72x with
                # 4,000 (10,000: 0.66-0.72x, 30,000: 0.63-0.67x, posts later people).
                "PRAGMA wal_autocheckpoint=4000;"
            ),
        },
        # A file, not memory: concurrency tests need real locking (WAL, IMMEDIATE).
        "TEST": {
            "NAME": os.environ.get("TANDEM_TEST_SQLITE_NAME")
            or str(Path(tempfile.gettempdir()) / f"tandem-test-{os.getpid()}.sqlite3")
        },
    }


DATABASES: dict[str, dict[str, Any]]
if _database_url:
    try:
        DATABASES = {
            "default": dict(dj_database_url.parse(_database_url, conn_max_age=CONN_MAX_AGE))
        }
    except Exception as exc:  # dj_database_url raises several kinds
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"] = _sqlite_database(DATABASES["default"]["NAME"])
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        pg_options = DATABASES["default"].setdefault("OPTIONS", {})
        if _lock_timeout_set:
            pg_options["options"] = f"-c lock_timeout={TANDEM_DB_LOCK_TIMEOUT_MS}"
        if env_bool("TANDEM_DB_PREPARED_STATEMENTS", True):
            # Django turns psycopg's prepared statements off (prepare_threshold None), which
            # also ignores `execute(..., prepare=True)`. The ORM's client-side binding cursors
            # never prepare whatever this says; the hot statements that ask for it (the web-form
            # inbox) are then parsed once per connection and run on a cached generic plan.
            # Measured: PostgreSQL spent a fifth of its CPU parsing and planning each post.
            # Off for PgBouncer in transaction mode before 1.21.
            pg_options["prepare_threshold"] = 2**31 - 1
        # Parallel test runs on one server each need their own test database.
        if os.environ.get("TANDEM_TEST_DB_NAME"):
            DATABASES["default"]["TEST"] = {"NAME": os.environ["TANDEM_TEST_DB_NAME"]}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": _sqlite_database("")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks ---------------------------------------------------------
_tasks_url = env_str("TANDEM_TASKS", "")
if _tasks_url.startswith("redis"):
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": _tasks_url}}
elif _tasks_url in ("", "database"):
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif _tasks_url == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    raise ImproperlyConfigured(
        f"TANDEM_TASKS={_tasks_url!r}: use 'database' (default), 'immediate' or redis://host:port/db"
    )
if TESTING:
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# --- Auth -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TANDEM_LOGIN_RATE = env_int("TANDEM_LOGIN_RATE", 10, minimum=1)  # failed tries per 5 min

# --- Capture and data quality ------------------------------------------------------
TANDEM_DEFAULT_REGION = env_str("TANDEM_DEFAULT_REGION", "US").upper()  # phones without +country
TANDEM_FORM_RATE_PER_IP = env_int("TANDEM_FORM_RATE_PER_IP", 20, minimum=1)  # posts per minute
TANDEM_FORM_RATE_PER_FORM = env_int("TANDEM_FORM_RATE_PER_FORM", 600, minimum=1)  # posts per minute
TANDEM_FORM_MIN_FILL_SECONDS = env_int("TANDEM_FORM_MIN_FILL_SECONDS", 3, minimum=0)
TANDEM_CONSENT_CONFIRM_DAYS = env_int("TANDEM_CONSENT_CONFIRM_DAYS", 14, minimum=1)
# Who owns a new person a salesperson saves in quick capture: "self" (the salesperson, as
# in the Add person form) or "queue" (nobody yet, left for routing).
TANDEM_QUICK_CAPTURE_OWNER = env_str("TANDEM_QUICK_CAPTURE_OWNER", "self").lower()
if TANDEM_QUICK_CAPTURE_OWNER not in ("self", "queue"):
    raise ImproperlyConfigured(
        f"TANDEM_QUICK_CAPTURE_OWNER={TANDEM_QUICK_CAPTURE_OWNER!r}: use self or queue"
    )
# At most one double opt-in email per address per form in this many minutes.
TANDEM_CONFIRM_EMAIL_WINDOW_MINUTES = env_int("TANDEM_CONFIRM_EMAIL_WINDOW_MINUTES", 60, minimum=1)
TANDEM_UNSUBSCRIBE_MAILTO = env_str("TANDEM_UNSUBSCRIBE_MAILTO")  # adds mailto: to List-Unsubscribe
# Imports: read and check rows in a second process from this many rows on; build the
# secondary indexes after the rows when at least this many come into a smaller database.
TANDEM_IMPORT_READER_PROCESS_ROWS = env_int("TANDEM_IMPORT_READER_PROCESS_ROWS", 20_000, minimum=0)
TANDEM_IMPORT_DEFER_INDEXES_ROWS = env_int("TANDEM_IMPORT_DEFER_INDEXES_ROWS", 50_000, minimum=0)
TANDEM_DUPLICATE_THRESHOLD = env_int("TANDEM_DUPLICATE_THRESHOLD_PERCENT", 85, minimum=1) / 100
# Predictive scoring: a lead with no move forward for this many days counts as a
# negative outcome; one still inside the window is left out of training.
TANDEM_SCORING_OUTCOME_WINDOW_DAYS = env_int("TANDEM_SCORING_OUTCOME_WINDOW_DAYS", 90, minimum=1)
# Threads a model fit may use (OpenMP/BLAS); one is the polite, predictable choice on a
# machine that also serves web requests.
TANDEM_SCORING_THREADS = env_int("TANDEM_SCORING_THREADS", 1, minimum=1)

# --- Email --------------------------------------------------------------------------
EMAIL_HOST = env_str("TANDEM_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("TANDEM_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("TANDEM_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("TANDEM_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("TANDEM_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = env_str("TANDEM_EMAIL_FROM", "Tandem <tandem@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = env_str("TANDEM_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
if DEBUG and not os.environ.get("TANDEM_EMAIL_BACKEND"):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Security -------------------------------------------------------------------
_secure = not DEBUG and not TESTING
SESSION_COOKIE_SECURE = env_bool("TANDEM_SECURE_COOKIES", _secure)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("TANDEM_SSL_REDIRECT", _secure)
SECURE_HSTS_SECONDS = env_int("TANDEM_HSTS_SECONDS", 31536000 if _secure else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("TANDEM_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("TANDEM_MAX_BODY_BYTES", 2_621_440, minimum=1024)

# --- i18n / static ------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TANDEM_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "tandem_cache",
    }
}
if TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("TANDEM_LOG_LEVEL", "WARNING")},
    # Django's own "django" logger prints to its console handler when DEBUG is on and
    # then passes the record up to ours: every 403/404 warning was printed twice.
    "loggers": {
        "django": {
            "handlers": [],
            "level": env_str("TANDEM_LOG_LEVEL", "WARNING"),
            "propagate": True,
        }
    },
}
