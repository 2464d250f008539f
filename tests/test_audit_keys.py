"""The checkpoint signing key: kept in a file outside the database, made once, readable only by us."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from planflow import audit_keys, config


def test_instance_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = audit_keys.load_signing_key(None, tmp_path)
    assert (tmp_path / audit_keys.KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert audit_keys.load_signing_key(None, tmp_path).public_key.key_id == first.public_key.key_id
    assert [p.name for p in tmp_path.iterdir()] == [audit_keys.KEY_FILE]  # no partial file left


def test_processes_racing_to_make_the_key_agree_on_one(tmp_path: Path) -> None:
    barrier = threading.Barrier(4)
    ids: list[str] = []

    def load() -> None:
        barrier.wait()
        ids.append(audit_keys.load_signing_key(None, tmp_path).public_key.key_id)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(ids) == 4 and len(set(ids)) == 1


def test_configured_key_file_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "elsewhere.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    monkeypatch.setenv("PLANFLOW_AUDIT_SIGNING_KEY", str(path))
    setting = config.load(tmp_path / "instance", {"SECRET_KEY": "x"})["AUDIT_SIGNING_KEY"]
    loaded = audit_keys.load_signing_key(setting, tmp_path / "instance")
    assert loaded.public_key.pem() == audit_keys.PublicKey(key.public_key()).pem()
    assert not (tmp_path / "instance" / audit_keys.KEY_FILE).exists()


def test_unusable_key_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the audit signing key"):
        audit_keys.load_signing_key(str(tmp_path / "missing.pem"), tmp_path)
    (tmp_path / "bad.pem").write_text("not a key")
    with pytest.raises(ValueError, match="is not an unencrypted PEM private key"):
        audit_keys.load_signing_key(str(tmp_path / "bad.pem"), tmp_path)
    with pytest.raises(ValueError, match="is not a PEM public key"):
        audit_keys.read_public_key(b"not a key")
