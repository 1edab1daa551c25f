"""Password hashing (Argon2id) and the strength rule every form and the CLI share."""

from __future__ import annotations

import re
from functools import cache

from argon2 import Parameters, PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 128
#: zxcvbn's 0-4 scale; 3 means "safely unguessable: moderate protection from an
#: offline slow-hash scenario".
MIN_SCORE = 3


#: OWASP's recommended Argon2id minimum (19 MiB, 2 passes): about 50 ms here, so a
#: screening window's sign-in spike stays affordable on two cores.
OWASP = Parameters(
    type=Type.ID,
    version=19,
    salt_len=16,
    hash_len=32,
    time_cost=2,
    memory_cost=19 * 1024,
    parallelism=1,
)


@cache
def _hasher(profile: str) -> PasswordHasher:
    parameters = OWASP if profile == "OWASP" else getattr(profiles, profile)
    return PasswordHasher.from_parameters(parameters)


def hasher() -> PasswordHasher:
    return _hasher(current_app.config["QUIZAPP_PASSWORD_HASH_PROFILE"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


def burn_time(password: str) -> None:
    """Spend the time of one verification, so an unknown e-mail answers as slowly
    as a wrong password and response times do not reveal which accounts exist."""
    verify_password(
        _dummy_hash(current_app.config["QUIZAPP_PASSWORD_HASH_PROFILE"]), password
    )


@cache
def _dummy_hash(profile: str) -> str:
    return _hasher(profile).hash("not a password anybody has")


def _personal_words(user_inputs: list[str]) -> list[str]:
    """Every way a person's details show up in a password: whole, word by word, and
    run together ("Alan Turing" gives "alan turing", "alan", "turing", "alanturing")."""
    words: set[str] = set()
    for text in user_inputs:
        text = (text or "").lower().strip()
        if not text:
            continue
        parts = [p for p in re.split(r"[^a-z0-9]+", text) if len(p) >= 3]
        words.update([text, "".join(parts), *parts])
    words.discard("")
    return sorted(words)


def weakness(password: str, user_inputs: list[str]) -> str | None:
    """Say why ``password`` is too weak, or return None if it is acceptable.

    ``user_inputs`` (name, e-mail, school) count against the password, so
    ``alice2024!`` is weak for Alice.
    """
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    # zxcvbn's cost grows with length; the first 100 characters decide.
    result = zxcvbn(password[:100], user_inputs=_personal_words(user_inputs))
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    hint = feedback.get("warning") or ""
    suggestions = " ".join(feedback.get("suggestions") or [])
    message = "This password is too easy to guess."
    return " ".join(part for part in (message, hint, suggestions) if part)
