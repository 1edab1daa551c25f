"""Every setting quizapp reads, with its default, loaded once at start-up.

Settings come from three places, later ones winning: the defaults below, environment
variables named ``QUIZAPP_<KEY>``, and the mapping given to ``create_app(config)``
(tests). Unknown keys are refused in both of the last two, so that a typo such as
``QUIZAPP_DATABSE_URL`` stops the app with a message instead of being ignored.
"""

from __future__ import annotations

import difflib
import os
import secrets
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quizapp.core import mail

ENV_PREFIX = "QUIZAPP_"

#: Variables with the prefix that are not settings of the app itself: read by the
#: test runner, so they may be set in the same shell without stopping the app.
TOOL_VARIABLES = frozenset({"QUIZAPP_TEST_DATABASE_URL", "QUIZAPP_REQUIRE_POSTGRES"})

ENVIRONMENTS = ("development", "production", "testing")
PASSWORD_HASH_PROFILES = (
    "OWASP",
    "RFC_9106_LOW_MEMORY",
    "RFC_9106_HIGH_MEMORY",
    "CHEAPEST",
)


class ConfigError(Exception):
    """The configuration cannot work; the message says which setting and why."""


@dataclass(frozen=True)
class Setting:
    default: Any
    parse: type
    doc: str


#: The whitelist. Keys are Flask config keys; the environment variable is the key
#: with the ``QUIZAPP_`` prefix.
SETTINGS: dict[str, Setting] = {
    "ENV": Setting(
        "development",
        str,
        "development | production | testing. Production requires a secret key.",
    ),
    "DATABASE_URL": Setting(
        None,
        str,
        "SQLAlchemy URL. Default: SQLite file quizapp.db in the instance folder. "
        "PostgreSQL: postgresql+psycopg://user:password@host/dbname",
    ),
    "SECRET_KEY": Setting(
        None,
        str,
        "Signs sessions and CSRF tokens. Generated into the instance folder in "
        "development; required in production.",
    ),
    "RATELIMIT_STORAGE_URL": Setting(
        "memory://",
        str,
        "Where rate-limit counters live: memory:// (one process) or "
        "redis://host:6379/0 (shared by every process and host).",
    ),
    "BASE_URL": Setting(
        "http://127.0.0.1:8000",
        str,
        "The public address of the app. An https:// address turns on secure "
        "cookies and HSTS.",
    ),
    "TIMEZONE": Setting(
        "UTC", str, "IANA time zone used to show dates, e.g. Asia/Singapore."
    ),
    "TRUSTED_PROXIES": Setting(
        0,
        int,
        "Number of reverse proxies in front of the app whose X-Forwarded-* "
        "headers are trusted (1 behind nginx).",
    ),
    "LOGIN_LIMIT_PER_ACCOUNT": Setting(
        "5 per 15 minutes",
        str,
        "Failed sign-ins allowed for one e-mail address before it is throttled.",
    ),
    "LOGIN_LIMIT_PER_IP": Setting(
        "30 per 15 minutes",
        str,
        "Failed sign-ins allowed from one IP address before it is throttled.",
    ),
    "SIGNUP_LIMIT_PER_IP": Setting(
        "100 per hour",
        str,
        "Sign-up attempts allowed from one IP address (a campus behind one NAT "
        "address signs up many candidates at once).",
    ),
    "SESSION_HOURS": Setting(
        12, int, "How long a sign-in lasts without activity, in hours."
    ),
    "SAVE_GRACE_SECONDS": Setting(
        5,
        int,
        "Seconds after a deadline during which answers still in flight are "
        "accepted (the network is not instantaneous); 0 to 60.",
    ),
    "MAIL_BACKEND": Setting(
        "console",
        str,
        "How e-mail (password reset links) leaves: console (written to the log; "
        "the default), smtp, memory (tests), or package.module:callable.",
    ),
    "MAIL_FROM": Setting(
        "quizapp <no-reply@localhost>", str, "The From: address of every e-mail."
    ),
    "SMTP_HOST": Setting("localhost", str, "SMTP server (MAIL_BACKEND=smtp)."),
    "SMTP_PORT": Setting(587, int, "SMTP port: 587 with starttls, 465 with ssl."),
    "SMTP_SECURITY": Setting(
        "starttls", str, "starttls | ssl | none (none only for a local relay)."
    ),
    "SMTP_USERNAME": Setting("", str, "SMTP user name; empty to send without."),
    "SMTP_PASSWORD": Setting("", str, "SMTP password."),
    "PASSWORD_RESET_MINUTES": Setting(
        60, int, "How long a password reset link works, in minutes (5 to 1440)."
    ),
    "PASSWORD_RESET_LIMIT_PER_IP": Setting(
        "20 per hour", str, "Password reset requests allowed from one IP address."
    ),
    "PASSWORD_RESET_LIMIT_PER_ACCOUNT": Setting(
        "3 per hour", str, "Password reset e-mails sent to one address."
    ),
    "PASSWORD_HASH_PROFILE": Setting(
        "OWASP",
        str,
        "Argon2id cost: OWASP (19 MiB, 2 passes; the default), or argon2-cffi's "
        "RFC_9106_LOW_MEMORY / RFC_9106_HIGH_MEMORY. CHEAPEST is for tests only.",
    ),
}


#: Flask and extension keys that tests may set directly.
FLASK_PASSTHROUGH = frozenset(
    {"TESTING", "WTF_CSRF_ENABLED", "SERVER_NAME", "RATELIMIT_ENABLED"}
)


def _parse(key: str, raw: Any) -> Any:
    setting = SETTINGS[key]
    if raw is None:
        return None
    try:
        return setting.parse(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{ENV_PREFIX}{key}: {exc}") from None


def _unknown(key: str, where: str) -> ConfigError:
    close = difflib.get_close_matches(key, SETTINGS, n=1)
    hint = f" Did you mean {where}{close[0]}?" if close else ""
    return ConfigError(f"{where}{key} is not a quizapp setting.{hint}")


def load(
    overrides: Mapping[str, Any] | None,
    instance_path: Path,
    environ: Mapping[str, str] = os.environ,
) -> dict[str, Any]:
    """Return the complete Flask configuration, or raise :class:`ConfigError`.

    :raise ConfigError: on an unknown key, a value that does not parse, an unknown
        time zone, or production without a secret key.
    """
    values = {key: setting.default for key, setting in SETTINGS.items()}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name in TOOL_VARIABLES:
            continue
        key = name.removeprefix(ENV_PREFIX)
        if key not in SETTINGS:
            raise _unknown(key, ENV_PREFIX)
        values[key] = _parse(key, raw)
    extra: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if key in SETTINGS:
            values[key] = _parse(key, value)
        elif key in FLASK_PASSTHROUGH:
            extra[key] = value
        else:
            raise _unknown(key, "")

    _check(values)
    if values["DATABASE_URL"] is None:
        values["DATABASE_URL"] = f"sqlite:///{instance_path / 'quizapp.db'}"
    if values["SECRET_KEY"] is None:
        if values["ENV"] == "production":
            raise ConfigError(
                "QUIZAPP_SECRET_KEY is required in production. Generate one with "
                '`python -c "import secrets; print(secrets.token_hex(32))"` and set '
                "it in the environment of every app process (all must share it)."
            )
        values["SECRET_KEY"] = _instance_secret(instance_path)
    return _flask_config(values) | extra


def _check(values: dict[str, Any]) -> None:
    if values["ENV"] not in ENVIRONMENTS:
        raise ConfigError(
            f"QUIZAPP_ENV must be one of {', '.join(ENVIRONMENTS)}, "
            f"not {values['ENV']!r}."
        )
    if values["PASSWORD_HASH_PROFILE"] not in PASSWORD_HASH_PROFILES:
        raise ConfigError(
            "QUIZAPP_PASSWORD_HASH_PROFILE must be one of "
            f"{', '.join(PASSWORD_HASH_PROFILES)}."
        )
    if values["ENV"] == "production" and values["PASSWORD_HASH_PROFILE"] == "CHEAPEST":  # noqa: S105
        raise ConfigError("QUIZAPP_PASSWORD_HASH_PROFILE=CHEAPEST is for tests only.")
    try:
        zoneinfo.ZoneInfo(values["TIMEZONE"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"QUIZAPP_TIMEZONE: unknown time zone {values['TIMEZONE']!r} "
            "(use an IANA name such as Europe/Paris or Asia/Singapore)."
        ) from None
    if not values["BASE_URL"].startswith(("http://", "https://")):
        raise ConfigError("QUIZAPP_BASE_URL must start with http:// or https://.")
    if not 0 <= values["SAVE_GRACE_SECONDS"] <= 60:
        raise ConfigError("QUIZAPP_SAVE_GRACE_SECONDS must be between 0 and 60.")
    if not 5 <= values["PASSWORD_RESET_MINUTES"] <= 1440:
        raise ConfigError("QUIZAPP_PASSWORD_RESET_MINUTES must be between 5 and 1440.")
    if values["SMTP_SECURITY"] not in ("starttls", "ssl", "none"):
        raise ConfigError("QUIZAPP_SMTP_SECURITY must be starttls, ssl or none.")
    if values["MAIL_BACKEND"] not in mail.BUILT_IN:
        try:
            mail.load_callable(values["MAIL_BACKEND"])
        except ValueError as exc:
            raise ConfigError(f"QUIZAPP_MAIL_BACKEND: {exc}") from None
    if values["TRUSTED_PROXIES"] < 0:
        raise ConfigError("QUIZAPP_TRUSTED_PROXIES cannot be negative.")


def _instance_secret(instance_path: Path) -> str:
    """Read the development secret from the instance folder, creating it once.

    Several processes may start together (gunicorn workers), so the file is written
    aside and linked into place: exactly one key wins and every process reads it.
    """
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        scratch = instance_path / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        scratch.write_text(secrets.token_hex(32), encoding="ascii")
        scratch.chmod(0o600)
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass
        finally:
            scratch.unlink()
    return path.read_text(encoding="ascii").strip()


def _flask_config(values: dict[str, Any]) -> dict[str, Any]:
    secure = values["BASE_URL"].startswith("https://")
    config = {f"QUIZAPP_{key}": value for key, value in values.items()}
    config.update(
        SECRET_KEY=values["SECRET_KEY"],
        SQLALCHEMY_DATABASE_URI=values["DATABASE_URL"],
        # No pre-ping: it was a round trip on every request (7% of the workers'
        # time at the intake spike). A connection that died in the pool (PostgreSQL
        # restarted) fails its first statement instead, which core.db runs again
        # on a new connection (nothing ran on the dead one), and SQLAlchemy then
        # replaces the rest of the pool. Connections older than 30 min are
        # replaced at check-out, before a firewall or proxy drops them while idle.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False, "pool_recycle": 1800},
        RATELIMIT_STORAGE_URI=values["RATELIMIT_STORAGE_URL"],
        # A Redis outage must not lock every candidate out mid-window: limits fall
        # back to per-process memory counters until the storage answers again.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_HEADERS_ENABLED=True,
        SESSION_COOKIE_NAME="quizapp_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=values["SESSION_HOURS"] * 3600,
        PREFERRED_URL_SCHEME="https" if secure else "http",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the signed session
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        # Static URLs carry their content's hash (quizapp.core.assets): cache a year.
        SEND_FILE_MAX_AGE_DEFAULT=365 * 24 * 3600,
        TESTING=values["ENV"] == "testing",
    )
    return config
