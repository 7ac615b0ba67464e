"""Signed checkpoints of the chain head, kept where a database administrator cannot reach.

The chain's hashes are unkeyed, so whoever can write the database can rewrite an entry and
recompute every hash after it, or drop the newest entries with the head. A checkpoint is
`(chain, seq, hash, at)` signed with an Ed25519 key that lives outside the database, appended
to a file (append-only, fsync'd) and stored in the database too: a rewritten or truncated
chain no longer matches a checkpoint, and a checkpoint cannot be forged without the key.
"""

import base64
import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.core.config import Environment, Settings

SIGNED_FIELDS = ("chain", "seq", "hash", "at")
ALGORITHM = "Ed25519"

_generated: dict[Path, Ed25519PrivateKey] = {}


class SigningKeyMissing(RuntimeError):
    """Production has no AUDIT_SIGNING_KEY (Settings refuses that already; this is a backstop)."""


def signing_key(config: Settings) -> Ed25519PrivateKey:
    """The configured key; in development and test without one, the key kept in the key file
    (made on first use, 0600), so that restarts keep verifying earlier checkpoints."""
    configured = config.audit.signing_key
    if configured is not None:
        return Ed25519PrivateKey.from_private_bytes(
            base64.b64decode(configured.get_secret_value().strip())
        )
    if config.app_env is Environment.PRODUCTION:
        raise SigningKeyMissing("AUDIT_SIGNING_KEY must be set in production")
    path = Path(config.audit.signing_key_file).resolve()
    if path not in _generated:
        _generated[path] = _kept_key(path)
    return _generated[path]


def _kept_key(path: Path) -> Ed25519PrivateKey:
    """Read the key file, or create it atomically: a link that fails when another process
    created it first, so two processes starting at once end up with the same key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        raw = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".signing-")
        try:
            try:
                os.fchmod(descriptor, 0o600)
                os.write(descriptor, base64.b64encode(raw) + b"\n")
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_text().strip()))


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name of the public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    return hashlib.sha256(_raw(public_key)).hexdigest()[:16]


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class PublicKeyInfo:
    key_id: str
    algorithm: str
    public_key: str
    pem: str


def public_key_info(config: Settings) -> PublicKeyInfo:
    public_key = signing_key(config).public_key()
    pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return PublicKeyInfo(key_id(public_key), ALGORITHM,
                         base64.b64encode(_raw(public_key)).decode(), pem)


def signed_message(checkpoint: dict[str, Any]) -> bytes:
    """The exact bytes a checkpoint's signature covers: its signed fields as canonical JSON."""
    body = {name: checkpoint.get(name) for name in SIGNED_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(key: Ed25519PrivateKey, chain: str, seq: int, hash_: str, at: str) -> dict[str, Any]:
    """A checkpoint as written to the file: `{chain, seq, hash, at, keyId, signature}`."""
    checkpoint: dict[str, Any] = {"chain": chain, "seq": seq, "hash": hash_, "at": at}
    checkpoint["keyId"] = key_id(key.public_key())
    checkpoint["signature"] = base64.b64encode(key.sign(signed_message(checkpoint))).decode()
    return checkpoint


def signature_valid(public_key: Ed25519PublicKey, checkpoint: dict[str, Any]) -> bool:
    try:
        signature = base64.b64decode(str(checkpoint.get("signature", "")), validate=True)
        public_key.verify(signature, signed_message(checkpoint))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def append_to_file(path: str, checkpoint: dict[str, Any]) -> None:
    """Append one JSON line and fsync it; the file is only ever opened for appending."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = json.dumps(checkpoint, sort_keys=True, separators=(",", ":")) + "\n"
    descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class FileCheckpoints:
    checkpoints: list[dict[str, Any]]
    unreadable_lines: list[int]


def read_file(path: str, chain: str) -> FileCheckpoints:
    """The file's checkpoints of `chain` (a file may hold several databases' chains), and the
    numbers of lines that are not checkpoints at all."""
    found: list[dict[str, Any]] = []
    unreadable: list[int] = []
    with contextlib.suppress(FileNotFoundError), open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                checkpoint = json.loads(line)
            except json.JSONDecodeError:
                unreadable.append(number)
                continue
            if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("seq"), int):
                unreadable.append(number)
            elif checkpoint.get("chain") == chain:
                found.append(checkpoint)
    return FileCheckpoints(found, unreadable)
