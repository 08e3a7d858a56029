"""QLoop settings: one module, every knob from the environment with a safe embedded default.

Embedded default: SQLite and files under ``QLOOP_DATA_DIR`` (./var), Huey on SQLite.
Scale-out: ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` (Redis behind Huey and the cache).
"""

from __future__ import annotations

import os
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str = "") -> str:
    """A string from ``NAME``, or from the file named by ``NAME_FILE`` (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DATA_DIR = Path(env_str("QLOOP_DATA_DIR", str(Path.cwd() / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DATABASE_URL = env_str("DATABASE_URL")
# DEBUG shows settings, tracebacks and local variables to whoever causes an error, so it is off
# unless asked for (DEBUG=true, or `qloop serve --debug`), the embedded default included.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    # Starting without configuration must still give every installation its own key.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text(encoding="utf-8").strip()

# The address people reach QLoop at: every link sent out or printed (survey links, QR codes,
# messages) is built on it, never on a request's Host header.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Without DEBUG, Django answers only to these names (`qloop serve` adds the machine's), and
# to the site's own.
ALLOWED_HOSTS = list(
    dict.fromkeys(
        [
            *env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]"),
            urlsplit(SITE_URL).hostname or "localhost",
        ]
    )
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "qloop.org",
    "qloop.cases",
    "qloop.process",
    "qloop.capa",
    "qloop.notify",
    "qloop.customers",
    "qloop.surveys",
    "qloop.reports",
    "qloop.api",
    # Profiles: the core never imports them; each is listed before qloop.web, whose start-up
    # check runs once every kind and process is registered.
    "qloop.pharmacy",
    "qloop.clinical",
    "qloop.web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    # Serves the API docs' Swagger UI from ninja's own static files, not from a CDN.
    "ninja",
    "huey.contrib.djhuey",
    # django-axes: counts wrong passwords on both login pages and e-signatures
    # (qloop.org.attempts).
    "qloop.org.apps.LoginAttemptsConfig",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the person and their roles kept between requests (qloop.org.kept_user).
    "qloop.org.kept_user.KeptUserAuthenticationMiddleware",
    "qloop.org.middleware.LanguageMiddleware",
    # Before any view reads the body: over-large bodies and control characters (413, 4xx).
    "qloop.web.middleware.RequestLimitsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Gives the person's own address to e-signatures, which are checked inside actions.
    "qloop.org.middleware.CurrentRequestMiddleware",
    # Last, as django-axes asks: turns a refused login into its lock-out answer (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "qloop.urls"
WSGI_APPLICATION = "qloop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "qloop.web.context_processors.qloop",
            ],
        },
    },
]

# Databases -------------------------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str(
            "QLOOP_TEST_DATABASE", f"test_{DATABASES['default']['NAME']}"
        )
        # Web requests are short: JIT compilation and parallel workers cost them more than they
        # save (bench/RESULTS.md). QLOOP_PG_OPTIONS="" keeps the server's own settings.
        _pg_options = env_str("QLOOP_PG_OPTIONS", "-c jit=off -c max_parallel_workers_per_gather=0")
        if _pg_options:
            DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", _pg_options)
        # Statements bound by the server and, once a connection has run one five times,
        # prepared: planned once per connection instead of on every execution. Planning was
        # most of the server's work on the case page (6-7 ms of CPU, 1.4 ms prepared; issue 14,
        # bench/RESULTS-pages.md section 12). QLOOP_PG_PREPARE=0 behind a connection pooler
        # that cannot keep prepared statements (PgBouncer before 1.21 in transaction mode).
        if env_bool("QLOOP_PG_PREPARE", True):
            DATABASES["default"].setdefault("OPTIONS", {}).update(
                server_side_binding=True, prepare_threshold=5
            )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "qloop.sqlite3"),
            "OPTIONS": {
                # WAL lets readers go on while one writer writes; IMMEDIATE takes the write
                # lock at BEGIN so two writers queue instead of failing half-way.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Kept open between requests, as on PostgreSQL: a fresh connection per request (the
            # default, 0) reads the schema again and loses SQLite's page cache and the prepared
            # statements; it nearly doubled the CPU of the case page and registration behind
            # gunicorn (issue 14, bench/RESULTS-pages.md section 13).
            "CONN_MAX_AGE": 60,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache, queue ----------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": env_str("QLOOP_QUEUE_NAME", "qloop"),
        "url": REDIS_URL,
        "immediate": env_bool("QLOOP_QUEUE_IMMEDIATE", False),
        "consumer": {
            "workers": env_int("QLOOP_WORKERS", 2),
            "worker_type": "thread",
            "max_delay": 2.0,
        },
    }
else:
    # Shared by all web processes on this machine (rate limits, message templates), no table.
    CACHES = {
        "default": {
            # Django's file cache, looking at the folder's size once a minute, not per write.
            "BACKEND": "qloop.filecache.FileCache",
            "LOCATION": str(DATA_DIR / "cache"),
            # Each person's badge and register counts are kept here (qloop.freshness); at the
            # default 300 entries a third of them would be thrown away every few page views.
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }
    HUEY = {
        # Huey's SQLite queue without a flush to disk per task queued (qloop.worker_queue).
        "huey_class": "qloop.worker_queue.SqliteHuey",
        "name": env_str("QLOOP_QUEUE_NAME", "qloop"),
        "filename": str(DATA_DIR / "queue.sqlite3"),
        "immediate": env_bool("QLOOP_QUEUE_IMMEDIATE", False),
        "consumer": {
            "workers": env_int("QLOOP_WORKERS", 2),
            "worker_type": "thread",
            "max_delay": 2.0,
        },
    }

if env_str("QLOOP_CACHE") == "locmem":  # the test run: counters never leak between runs
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Files ---------------------------------------------------------------------------------------
MEDIA_ROOT = Path(env_str("QLOOP_MEDIA_ROOT", str(DATA_DIR / "media")))
STATIC_ROOT = Path(env_str("QLOOP_STATIC_ROOT", str(DATA_DIR / "static")))
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise looks there even before collectstatic
# Attachments are never served from MEDIA_URL: a view checks permission on every download.
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {
        "BACKEND": env_str("QLOOP_FILE_STORAGE", "django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {
        # Hashed, compressed names in production (after collectstatic); plain files otherwise.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("QLOOP_STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
QLOOP_MAX_UPLOAD_MB = env_int("QLOOP_MAX_UPLOAD_MB", 10)
QLOOP_MAX_PHOTOS = env_int("QLOOP_MAX_PHOTOS", 10)
# Lookups of the public status page per client address and hour (issue 12.22).
QLOOP_STATUS_LOOKUPS_PER_HOUR = env_int("QLOOP_STATUS_LOOKUPS_PER_HOUR", 10)
# Width × height, checked from the file's header before a photo is decoded: a small file can
# hold a picture that takes gigabytes to decode. 40 megapixels fits every phone camera.
QLOOP_MAX_IMAGE_MEGAPIXELS = env_int("QLOOP_MAX_IMAGE_MEGAPIXELS", 40)
# A request's form fields or JSON body (photos come on top of it); larger ones get a 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("QLOOP_MAX_BODY_MB", 5) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# People ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
QLOOP_DEMO_PASSWORD = env_str("QLOOP_DEMO_PASSWORD", "demo")
# Wrong passwords, per user name AND client address together, on /login/, /admin/login/ and
# e-signatures added up, before that user name is refused from that address for a while. The
# count is django-axes' (its AccessAttempt rows, shown in the administration pages), kept
# atomic by qloop.org.attempts; a stranger elsewhere cannot lock the real user out.
QLOOP_LOGIN_ATTEMPTS = env_int("QLOOP_LOGIN_ATTEMPTS", 10)
# Answers through a campaign's public link, per client address and hour (docs/surveys.md).
QLOOP_SURVEY_ANSWERS_PER_HOUR = env_int("QLOOP_SURVEY_ANSWERS_PER_HOUR", 30)
# Patients' opinions through a laboratory's or radiology's public page (docs/clinical.md).
QLOOP_OPINIONS_PER_HOUR = env_int("QLOOP_OPINIONS_PER_HOUR", 10)
if QLOOP_SURVEY_ANSWERS_PER_HOUR < 1 or QLOOP_OPINIONS_PER_HOUR < 1:
    raise ImproperlyConfigured(
        "QLOOP_SURVEY_ANSWERS_PER_HOUR and QLOOP_OPINIONS_PER_HOUR must be 1 or more"
    )
QLOOP_LOGIN_LOCK_MINUTES = env_int("QLOOP_LOGIN_LOCK_MINUTES", 15)
if QLOOP_LOGIN_ATTEMPTS < 1 or QLOOP_LOGIN_LOCK_MINUTES < 1:
    raise ImproperlyConfigured(
        "QLOOP_LOGIN_ATTEMPTS and QLOOP_LOGIN_LOCK_MINUTES must be 1 or more"
    )
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "qloop.org.attempts.AtomicAttemptHandler"
# Callables, so that the two QLOOP_ settings above stay the only place these are set.
AXES_FAILURE_LIMIT = "qloop.org.attempts.failure_limit"
AXES_COOLOFF_TIME = "qloop.org.attempts.cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A try while locked out is refused unchecked and does not push the end of the lock-out away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "qloop.org.attempts.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_ENABLE_ADMIN = False  # QLoop's own, translated, read-only pages (qloop.web.admin)
AXES_VERBOSE = False

# Language and time ---------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")

# Business rules --------------------------------------------------------------------------
# R2.3: the customer gets an answer within this many days; working days or calendar days.
QLOOP_ANSWER_DAYS = env_int("QLOOP_ANSWER_DAYS", 2)
# The pharmacy's public drug quality feedback page: reports an hour from one address.
QLOOP_DRUG_FEEDBACK_PER_HOUR = env_int("QLOOP_DRUG_FEEDBACK_PER_HOUR", 10)
QLOOP_ANSWER_WORKING_DAYS = env_bool("QLOOP_ANSWER_WORKING_DAYS", False)
QLOOP_LIST_COUNT_LIMIT = env_int("QLOOP_LIST_COUNT_LIMIT", 10_000)
# The web process's garbage collector (qloop/wsgi.py): a young-generation collection after this
# many new objects instead of Python's 700, and what was loaded at start frozen out of every
# collection. Pages make and drop tens of thousands of objects; collecting every 700 cost the
# register 7-13 % of its CPU (bench/RESULTS-pages.md section 16). 0 leaves Python's settings.
QLOOP_WEB_GC_THRESHOLD = env_int("QLOOP_WEB_GC_THRESHOLD", 50_000)
# A full-text search reads a row per match it counts, so it counts less far.
QLOOP_SEARCH_COUNT_LIMIT = env_int("QLOOP_SEARCH_COUNT_LIMIT", 1_000)
# An export of more rows than this is written by the worker, with progress on the page (X4).
QLOOP_EXPORT_INLINE_ROWS = env_int("QLOOP_EXPORT_INLINE_ROWS", 2_000)

# Security ----------------------------------------------------------------------------------
# The debug page (DEBUG=true only) masks every setting, header and local variable whose name
# may hold a secret, and any address with a password in it (EMAIL_URL, DATABASE_URL, REDIS_URL).
DEFAULT_EXCEPTION_REPORTER_FILTER = "qloop.web.errors.SecretsFilter"
QLOOP_BEHIND_TLS_PROXY = env_bool("QLOOP_BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if QLOOP_BEHIND_TLS_PROXY else None
# The client's address, for the attempt limits: behind the TLS proxy, the one the proxy saw
# (X-Forwarded-For, counted from the right past QLOOP_PROXIES proxies that each add the address
# they were reached from; what a client wrote there itself is ignored); otherwise the
# connection's own. Without the proxy the header is never read: anyone could write it.
QLOOP_PROXIES = env_int("QLOOP_PROXIES", 1)
if QLOOP_BEHIND_TLS_PROXY and QLOOP_PROXIES < 1:
    raise ImproperlyConfigured("QLOOP_PROXIES must be 1 or more behind a TLS proxy")
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if QLOOP_BEHIND_TLS_PROXY else ("REMOTE_ADDR",)
)
# ipware counts the entries after the client's; the proxy nearest QLoop is REMOTE_ADDR itself.
AXES_IPWARE_PROXY_COUNT = QLOOP_PROXIES - 1 if QLOOP_BEHIND_TLS_PROXY else None
AXES_IPWARE_PROXY_ORDER = "left-most"
# "At least that many": a client's own X-Forwarded-For in front of the proxies' is skipped,
# not a reason to fall back to the proxy's address.
IPWARE_STRICT = False
_HTTPS = env_bool("QLOOP_HTTPS", not DEBUG and bool(DATABASE_URL))
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_SSL_REDIRECT = _HTTPS and env_bool("QLOOP_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("QLOOP_HSTS_SECONDS", 31_536_000 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _HTTPS
SECURE_HSTS_PRELOAD = _HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Sessions are read from the cache (Redis, or the data folder's file cache) and written through
# to the database, which stays the record: a logout or a flush deletes both (issue 14: the
# session's query was one of the three every page ran).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
X_FRAME_OPTIONS = "DENY"
# Every page says where its parts may come from: only QLoop itself. No inline script, no
# eval, no inline style: a text someone managed to slip into a page cannot run or restyle it.
# data: images are the tab's icon and the pictures inside Bootstrap's and Swagger UI's CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}


# Messages (X6) -----------------------------------------------------------------------------
def email_server(url: str) -> dict[str, Any]:
    """Django's ``EMAIL_*`` settings from one ``EMAIL_URL``.

    ``smtp://user:password@host:port`` (plain; ``?starttls=true`` or ``?tls=true`` upgrades it
    with STARTTLS), ``smtps://…`` (TLS from the first byte), ``?timeout=`` in seconds. User and
    password are URL-encoded (``%40`` for ``@``). A mistake stops the start with its reason, and
    the message never shows the password.
    """
    parts = urlsplit(url)
    shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()

    def bad(reason: str) -> ImproperlyConfigured:
        return ImproperlyConfigured(f"EMAIL_URL {shown!r}: {reason}")

    if parts.scheme not in {"smtp", "smtps"}:
        raise bad("the scheme must be smtp:// or smtps://")
    if not parts.hostname:
        raise bad("the address names no mail server")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or parts.netloc.endswith(":"):
        raise bad("the port must be a number from 1 to 65535")
    if parts.path not in {"", "/"} or parts.fragment:
        raise bad("nothing may follow the server's address but ?options")
    options: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in {"starttls", "tls", "timeout"}:
            raise bad(f"unknown option {name!r} (known: starttls, tls, timeout)")
        options[name] = value

    def flag(name: str) -> bool:
        value = options.get(name, "false").lower()
        if value not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            raise bad(f"{name} must be true or false, not {value!r}")
        return value in {"1", "true", "yes", "on"}

    starttls = flag("starttls") or flag("tls")
    use_ssl = parts.scheme == "smtps"
    if use_ssl and starttls:
        raise bad("smtps:// is already encrypted; STARTTLS is for smtp://")
    try:
        timeout = float(options.get("timeout", "30"))
    except ValueError:
        timeout = 0
    if not 0 < timeout <= 600:
        raise bad("timeout must be a number of seconds, more than 0 and at most 600")
    user = unquote(parts.username or "")
    password = unquote(parts.password or "")
    if password and not user:
        raise bad("a password needs a user name")
    if not (user + password).isascii():
        # smtplib's AUTH sends both as ASCII; better to say so now than fail at every e-mail.
        raise bad("the user name and password must be ASCII")
    return {
        "EMAIL_BACKEND": "qloop.notify.channels.SMTPBackend",
        "EMAIL_HOST": parts.hostname,
        # Without a port: 465 for smtps, 587 (submission) with STARTTLS, else 25.
        "EMAIL_PORT": port or (465 if use_ssl else 587 if starttls else 25),
        "EMAIL_HOST_USER": user,
        "EMAIL_HOST_PASSWORD": password,
        "EMAIL_USE_TLS": starttls,
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_TIMEOUT": timeout,
    }


EMAIL_URL = env_str("EMAIL_URL")
if EMAIL_URL:
    _email = email_server(EMAIL_URL)
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"]
    EMAIL_PORT = _email["EMAIL_PORT"]
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
    EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
    EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
    EMAIL_TIMEOUT = _email["EMAIL_TIMEOUT"]
elif env_bool("QLOOP_EMAIL_CONSOLE", False):
    # Asked for: each e-mail printed in full to the worker's log (a developer's choice).
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    # The embedded default: each e-mail is written to a file under var/mail/ (one file per
    # delivery run) and stays readable in the admin's outbox; printing them buried the start
    # banner under thousands of lines of the demo's HTML (issue 12.19).
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = str(DATA_DIR / "mail")
DEFAULT_FROM_EMAIL = env_str("QLOOP_EMAIL_FROM", "QLoop <qloop@localhost>")
if "@" not in parseaddr(DEFAULT_FROM_EMAIL)[1]:
    raise ImproperlyConfigured(
        f"QLOOP_EMAIL_FROM must be an address such as 'QLoop <qloop@example.com>', "
        f"not {DEFAULT_FROM_EMAIL!r}"
    )
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds to wait for a group robot or webhook to answer before trying again later.
QLOOP_WEBHOOK_TIMEOUT = env_int("QLOOP_WEBHOOK_TIMEOUT", 10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # axes says INFO for every login; its warnings (failures, lock-outs) stay.
    "loggers": {"huey": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

MESSAGE_TAGS = {40: "danger"}  # messages.ERROR shown with Bootstrap's "danger" colour

# HL7 v2 listener (qloop hl7-listen, docs/clinical.md): the most messages stored in one commit,
# and, on SQLite, how hard each commit is pushed to the disk before the ACKs go out (FULL: an
# ACK survives a power cut; NORMAL: it survives a crash of QLoop, not of the machine).
QLOOP_HL7_MAX_BATCH = env_int("QLOOP_HL7_MAX_BATCH", 200)
QLOOP_HL7_SQLITE_SYNCHRONOUS = env_str("QLOOP_HL7_SQLITE_SYNCHRONOUS", "FULL").upper()
# Writer threads of the listener on PostgreSQL (each its own connection and transaction; one
# overlaps its work with the other's wait for the server). SQLite always has one. One by
# default: on a quiet 2-core machine with the database beside it, one writer took 533–551
# messages/s against two's 454–489 (bench/RESULTS-clinical.md); two may pay with the database
# on a machine of its own.
QLOOP_HL7_WRITERS = env_int("QLOOP_HL7_WRITERS", 1)
# Listener processes sharing the port on PostgreSQL (qloop hl7-listen --processes): each its
# own interpreter, writer and connection, so parsing and storing use more than one core.
# SQLite always has one. Two by default: on a quiet 2-core machine with the database beside
# it, two took 695–1248 messages/s against one's 560–914, ahead in 6 pairs of 7
# (bench/RESULTS-clinical.md, sixth round); one process leaves the second core to the rest.
QLOOP_HL7_PROCESSES = env_int("QLOOP_HL7_PROCESSES", 2)
