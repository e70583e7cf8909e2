"""Password hashing (argon2id) and the password rules: 12 to 128 characters, not a common or
easily guessed password, no composition rules (NCSC and NIST SP 800-63B guidance)."""

import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 128
#: zxcvbn scores 0 (trivial) to 4 (very strong); below this a password is "too easy to guess".
MIN_STRENGTH = 3
#: Words that make a password easy to guess for this site whoever the user is.
SITE_WORDS = ("peerlearn", "nhs", "impact", "improvement", "england", "password")


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int | None, memory_cost: int | None) -> PasswordHasher:
    if time_cost is None or memory_cost is None:
        return PasswordHasher()  # argon2id with the library's current recommended parameters
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=1)


def _hasher() -> PasswordHasher:
    """The configured hasher: the library's defaults, unless ``ARGON2_TIME_COST`` and
    ``ARGON2_MEMORY_COST`` (KiB) are set (the test suite uses a cheap profile)."""
    config = current_app.config if has_app_context() else {}
    return _hasher_for(config.get("ARGON2_TIME_COST"), config.get("ARGON2_MEMORY_COST"))


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified against when no account matches, so an unknown e-mail costs the same time."""
    return hasher.hash("not a real password, only used to spend time")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords from the zxcvbn corpus."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; spends the same time when there is no hash to check."""
    hasher = _hasher()
    try:
        return hasher.verify(password_hash or _dummy_hash(hasher), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher().check_needs_rehash(password_hash)


def password_problem(password: str, user_inputs: list[str] | tuple[str, ...] = ()) -> str | None:
    """What is wrong with a new password, in words for the user, or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    if password.lower() in common_passwords():
        return "That password is too common. Choose a password that other people do not use"
    # Whole values and their parts: "Ann New" and "ann.new@trust.nhs.uk" give "ann" and "new".
    words = [
        word
        for value in (*user_inputs, *SITE_WORDS)
        for word in (value, *re.split(r"[^0-9a-zA-Z]+", value or ""))
        if len(word) >= 3
    ]
    # zxcvbn is slow on very long input; the first 72 characters say enough about guessability.
    if zxcvbn(password[:72], user_inputs=words)["score"] < MIN_STRENGTH:
        return (
            "That password is too easy to guess. Try a few unrelated words together, "
            "and avoid your name or e-mail address"
        )
    return None
