"""Settings: defaults, the environment, and refusals with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from quizapp import create_app
from quizapp.config import ConfigError, load


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="QUIZAPP_SECRET_KEY is required"):
        load({"ENV": "production"}, tmp_path, environ={})
    assert not (tmp_path / "secret_key").exists()


def test_production_with_a_secret_key_starts_with_secure_defaults(tmp_path):
    config = load(
        {
            "ENV": "production",
            "SECRET_KEY": "s" * 64,
            "BASE_URL": "https://quiz.example.org",
        },
        tmp_path,
        environ={},
    )
    assert config["SECRET_KEY"] == "s" * 64
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_generates_one_secret_key_and_keeps_it(tmp_path):
    first = load({}, tmp_path, environ={})["SECRET_KEY"]
    second = load({}, tmp_path, environ={})["SECRET_KEY"]

    assert first == second
    assert len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_defaults_serve_a_laptop(tmp_path):
    config = load({}, tmp_path, environ={})

    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/quizapp.db"
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert config["SESSION_COOKIE_SECURE"] is False


def test_environment_variables_set_values(tmp_path):
    config = load(
        {},
        tmp_path,
        environ={
            "QUIZAPP_DATABASE_URL": "postgresql+psycopg://u@db/quizapp",
            "QUIZAPP_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0",
            "QUIZAPP_TIMEZONE": "Asia/Singapore",
            "QUIZAPP_TRUSTED_PROXIES": "1",
            "QUIZAPP_TEST_DATABASE_URL": "ignored by the app",
            "PATH": "/usr/bin",
        },
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/quizapp"
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert config["QUIZAPP_TIMEZONE"] == "Asia/Singapore"
    assert config["QUIZAPP_TRUSTED_PROXIES"] == 1


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"QUIZAPP_DATABSE_URL": "x"}, "Did you mean QUIZAPP_DATABASE_URL"),
        ({"QUIZAPP_TIMEZONE": "Mars/Olympus"}, "unknown time zone"),
        ({"QUIZAPP_ENV": "staging"}, "must be one of"),
        ({"QUIZAPP_TRUSTED_PROXIES": "one"}, "QUIZAPP_TRUSTED_PROXIES"),
        ({"QUIZAPP_BASE_URL": "quiz.example.org"}, "must start with http"),
        (
            {
                "QUIZAPP_ENV": "production",
                "QUIZAPP_SECRET_KEY": "k",
                "QUIZAPP_PASSWORD_HASH_PROFILE": "CHEAPEST",
            },
            "for tests only",
        ),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        load({}, tmp_path, environ=environ)


def test_unknown_key_in_the_app_config_is_refused():
    with pytest.raises(ConfigError, match="DATABASE is not a quizapp setting"):
        create_app({"DATABASE": "sqlite://"})


def test_console_script_reports_a_missing_production_key_without_a_traceback():
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIZAPP_")}
    env["QUIZAPP_ENV"] = "production"
    quizapp = Path(sys.executable).with_name("quizapp")

    result = subprocess.run(
        [str(quizapp), "users", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "configuration error: QUIZAPP_SECRET_KEY is required" in result.stderr
    assert "Traceback" not in result.stderr
