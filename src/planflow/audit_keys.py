"""The Ed25519 key that signs audit checkpoints. It is kept outside the database, so that whoever
can write to the database cannot sign a rewritten chain.

The key is a PEM file (PKCS#8, unencrypted): the path PLANFLOW_AUDIT_SIGNING_KEY names, or else
`audit_signing_key.pem` in the instance folder, generated once with mode 0600. A path rather than
the PEM itself in the environment, because environments leak (process listings, crash reports,
`docker inspect`) and a file keeps its permissions.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "audit_signing_key.pem"


@dataclass(frozen=True)
class PublicKey:
    """The half that verifies; safe to publish."""

    key: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        """The SHA-256 fingerprint of the raw public key, in hex: names the key in checkpoints."""
        raw = self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()

    def pem(self) -> str:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def verifies(self, message: bytes, signature: bytes) -> bool:
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """The private half; lives in a file, never in a table."""

    key: Ed25519PrivateKey

    @property
    def public_key(self) -> PublicKey:
        return PublicKey(self.key.public_key())

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


def load_signing_key(setting: str | None, instance_path: Path) -> SigningKey:
    """The configured key: the PEM file at `setting`, or the instance folder's own (made once)."""
    if setting:
        path = Path(setting)
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"cannot read the audit signing key {path}: {exc.strerror}") from None
        return _parse_private(pem, path)
    path = instance_path / KEY_FILE
    if not path.exists():
        _generate(path)
    return _parse_private(path.read_bytes(), path)


def signing_key(config: Mapping[str, Any], instance_path: str | Path) -> SigningKey:
    """The configured key, as an app's configuration names it (AUDIT_SIGNING_KEY, else the
    instance folder's, made once): what the pages and the API sign an issued report's checkpoint
    with, as the command line does. ValueError when the file is there but is no key."""
    return load_signing_key(config.get("AUDIT_SIGNING_KEY"), Path(instance_path))


def verifying_key(config: Mapping[str, Any], instance_path: str | Path) -> PublicKey | None:
    """The key that verifies the checkpoints: the public half of the configured signing key
    (AUDIT_SIGNING_KEY, else the instance folder's), or None when that file does not exist.
    The command line, the audit page and the API all verify with it; verifying never makes a key.
    ValueError when the file is there but is no key."""
    setting = config.get("AUDIT_SIGNING_KEY")
    path = Path(setting) if setting else Path(instance_path) / KEY_FILE
    if not path.is_file():
        return None
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read the audit signing key {path}: {exc.strerror}") from None
    return _parse_private(pem, path).public_key


def read_public_key(pem: bytes, source: str = "the public key") -> PublicKey:
    """A published public key, to verify with a key obtained outside this installation."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise ValueError(f"{source} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{source} is not an Ed25519 key")
    return PublicKey(key)


def _parse_private(pem: bytes, path: Path) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):  # TypeError: the file is encrypted
        raise ValueError(f"the audit signing key {path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"the audit signing key {path} is not an Ed25519 key")
    return SigningKey(key)


def _generate(path: Path) -> None:
    """Write a new key to `path`, readable only by us, unless another process got there first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Written in full under a private name, then linked into place: a second process either sees
    # no file or a whole key, never a half-written one, and the first link wins.
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    partial = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        try:
            os.link(partial, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
    finally:
        partial.unlink(missing_ok=True)
