"""Configuration: defaults, PLANFLOW_* environment, overrides; the secret key kept once."""

from __future__ import annotations

from pathlib import Path

import pytest

from planflow import config


def test_secret_key_is_generated_once_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLANFLOW_SECRET_KEY", raising=False)
    first = config.load(tmp_path)["SECRET_KEY"]
    assert len(first) > 40
    assert config.load(tmp_path)["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_environment_overrides_defaults_and_overrides_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANFLOW_ESCALATION_DAYS", "21")
    monkeypatch.setenv("PLANFLOW_SCHEDULER_ENABLED", "off")
    loaded = config.load(tmp_path, {"MAIL_PORT": 2525})
    assert (loaded["ESCALATION_DAYS"], loaded["SCHEDULER_ENABLED"], loaded["MAIL_PORT"]) == (21, False, 2525)
    assert loaded["DATABASE_URL"] == f"sqlite:///{tmp_path / 'planflow.sqlite3'}"


def test_malformed_environment_value_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANFLOW_ESCALATION_DAYS", "two weeks")
    with pytest.raises(ValueError, match="PLANFLOW_ESCALATION_DAYS must be a whole number"):
        config.load(tmp_path)
