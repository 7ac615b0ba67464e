"""What production accepts as a secret it generates itself (JWT keys, encryption and signing
keys, tokens): never a value that has been published in this repository, and never one with
less than 32 random bytes in it."""

import math
import string

MIN_RANDOM_BYTES = 32

# Every placeholder or default this repository has ever shipped (code, .env.example,
# docker-compose.yml): anyone who reads the repository knows them.
PUBLISHED_SECRETS = frozenset({
    "dev-only-insecure-jwt-secret-change-me-0123456789",
    "replace-with-64-random-characters-from-a-password-manager-000000",
    "change-me-in-dotenv-to-a-long-random-secret",
    "replace-with-a-long-passphrase",
    "replace-me",
    "sandbox-test-key-secret-not-for-production",
    "sandbox-test-webhook-secret-not-for-production",
    "rzp_test_sandbox",
})
_PLACEHOLDER_WORDS = ("change-me", "changeme", "replace", "example", "insecure", "dev-only", "sandbox")


_ALPHABETS = (
    (frozenset(string.hexdigits), 4.0),
    (frozenset(string.ascii_letters + string.digits + "-_=+/"), 6.0),
    (frozenset(string.printable), math.log2(len(string.printable))),
)


def random_bytes_in(secret: str) -> float:
    """An upper bound on the random bytes in `secret`: its length times the bits per
    character of the smallest alphabet (hex, base64, printable) that spells it."""
    used = set(secret)
    bits = next((bits for alphabet, bits in _ALPHABETS if used <= alphabet), 8.0)
    return len(secret) * bits / 8


def weakness(secret: str) -> str | None:
    """Why `secret` may not guard production, or None when it may."""
    if secret in PUBLISHED_SECRETS:
        return "is published in the repository"
    lowered = secret.lower()
    if any(word in lowered for word in _PLACEHOLDER_WORDS):
        return "is a placeholder"
    if len(set(secret)) < 8:
        return "repeats too few characters to be random"
    if random_bytes_in(secret) < MIN_RANDOM_BYTES:
        return f"holds fewer than {MIN_RANDOM_BYTES} random bytes (use `openssl rand -base64 48`)"
    return None
