"""Configuration: defaults, PLANFLOW_* environment, overrides; the secret key kept once."""

from __future__ import annotations

from pathlib import Path

import pytest

from planflow import config, resources
from planflow.app import create_app
from planflow.db import EXTENSION

ROOT = Path(__file__).resolve().parents[1]


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
    loaded = config.load(tmp_path, {"SMTP_PORT": 2525})
    assert (loaded["ESCALATION_DAYS"], loaded["SCHEDULER_ENABLED"], loaded["SMTP_PORT"]) == (21, False, 2525)
    assert loaded["DATABASE_URL"] == f"sqlite:///{tmp_path / 'planflow.sqlite3'}"


def test_malformed_environment_value_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANFLOW_ESCALATION_DAYS", "two weeks")
    with pytest.raises(ValueError, match="PLANFLOW_ESCALATION_DAYS must be a whole number"):
        config.load(tmp_path)


def test_instance_folder_is_the_checkouts_wherever_a_command_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLANFLOW_INSTANCE_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "test"})
    app.extensions[EXTENSION].dispose()
    assert Path(app.instance_path) == ROOT / "instance"


def test_instance_folder_outside_a_checkout_is_the_users_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLANFLOW_INSTANCE_PATH", raising=False)
    monkeypatch.setattr(resources, "checkout", lambda: None)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert config.default_instance_path() == tmp_path / "data" / "planflow"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.default_instance_path() == tmp_path / ".local" / "share" / "planflow"


def test_instance_folder_from_the_environment_comes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANFLOW_INSTANCE_PATH", "here")
    assert config.default_instance_path() == tmp_path / "here"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("nonsense", "PLANFLOW_DATABASE_URL 'nonsense' is not a database URL"),
        ("mysql://x", "planflow runs on SQLite or PostgreSQL only"),
        (
            "postgresql+psycopg2://u:secret@h/db",
            r"'postgresql\+psycopg2://u:\*\*\*@h/db': write postgresql\+psycopg",
        ),
    ],
)
def test_unusable_database_url_is_refused_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", url)
    with pytest.raises(ValueError, match=says):
        config.load(tmp_path, {"SECRET_KEY": "test"})


def test_instance_folder_below_a_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLANFLOW_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLANFLOW_SECRET_KEY", raising=False)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="instance folder '.*/file/x' cannot be made: Not a directory"):
        config.load(tmp_path / "file" / "x")
