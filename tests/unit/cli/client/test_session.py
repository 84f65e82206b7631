from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from berth.cli.client import session as session_file
from berth.cli.client.session import CachedToken, SessionFileError, config_dir
from tests.unit.cli.conftest import make_session


def test_config_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BERTH_CONFIG_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "explicit"
    monkeypatch.delenv("BERTH_CONFIG_DIR")
    assert config_dir() == tmp_path / "xdg" / "berth"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_dir() == tmp_path / "home" / ".config" / "berth"


def test_saved_session_is_private_and_round_trips(config_dir: Path) -> None:
    original = make_session()
    path = session_file.save(original)
    assert path == config_dir / "session.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert session_file.load() == original
    assert list(config_dir.iterdir()) == [path]  # no temporary file left behind


def test_saving_again_tightens_a_loosened_file(config_dir: Path) -> None:
    path = session_file.save(make_session())
    path.chmod(0o644)
    session = make_session()
    session.tokens["https://containerregistry.azure.net"] = CachedToken("t", time.time() + 60)
    session_file.save(session)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = session_file.load()
    assert loaded is not None
    assert loaded.tokens["https://containerregistry.azure.net"].access_token == "t"


def test_missing_damaged_and_deleted_sessions(config_dir: Path) -> None:
    assert session_file.load() is None
    assert session_file.delete() is False
    config_dir.mkdir(parents=True)
    (config_dir / "session.json").write_text("{not json")
    with pytest.raises(SessionFileError, match="damaged"):
        session_file.load()
    assert session_file.delete() is True


def test_cached_token_freshness_keeps_a_margin() -> None:
    assert CachedToken("t", time.time() + 3600).fresh()
    assert not CachedToken("t", time.time() + 60).fresh()
