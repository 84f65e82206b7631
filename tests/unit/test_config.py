"""berth.config: defaults < TOML file < BERTH_* variables < overrides, and one-line errors."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from berth.config import ConfigError, Settings, load_settings
from berth.content.collector import DEFAULT_GRACE_SECONDS


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default data directory is under XDG_DATA_HOME; point it at a temporary folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path


# --- defaults and precedence ----------------------------------------------------------------


def test_defaults(home: Path) -> None:
    settings = load_settings(environ={})

    assert settings.listen == "127.0.0.1:5000"
    assert settings.host == "127.0.0.1"
    assert settings.port == 5000
    assert settings.data_dir == home / "xdg" / "berth"
    assert settings.domain == "localhost"
    assert settings.default_registry == "default"
    assert settings.insecure_no_auth is False
    assert settings.trusted_proxies == ()
    assert settings.resolved_database_url == f"sqlite:///{home / 'xdg' / 'berth' / 'metadata.db'}"
    assert settings.resolved_storage_path == home / "xdg" / "berth" / "storage"
    assert settings.scheme == "http"


def test_toml_overrides_defaults(tmp_path: Path) -> None:
    config = write(
        tmp_path / "berth.toml",
        'listen = "0.0.0.0:6000"\ndomain = "registry.test"\ndata-dir = "/srv/berth"\n'
        'trusted_proxies = ["10.0.0.0/8"]\ninsecure_no_auth = true\nevent_retention_days = 7\n',
    )

    settings = load_settings(config, environ={})

    assert settings.listen == "0.0.0.0:6000"
    assert settings.domain == "registry.test"
    assert settings.data_dir == Path("/srv/berth")
    assert settings.trusted_proxies == ("10.0.0.0/8",)
    assert settings.insecure_no_auth is True
    assert settings.event_retention_days == 7


def test_environment_overrides_toml(tmp_path: Path) -> None:
    config = write(tmp_path / "berth.toml", 'listen = "0.0.0.0:6000"\ndomain = "from.toml"\n')
    environ = {
        "BERTH_LISTEN": "127.0.0.1:7000",
        "BERTH_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1",
        "BERTH_INSECURE_NO_AUTH": "yes",
        "BERTH_PUBLIC_PORT": "443",
    }

    settings = load_settings(config, environ=environ)

    assert settings.listen == "127.0.0.1:7000"
    assert settings.domain == "from.toml"
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.168.1.1")
    assert settings.insecure_no_auth is True
    assert settings.public_port == 443


def test_overrides_beat_everything_and_none_means_unset(tmp_path: Path) -> None:
    config = write(tmp_path / "berth.toml", 'listen = "0.0.0.0:6000"\ndomain = "from.toml"\n')
    environ = {"BERTH_LISTEN": "127.0.0.1:7000", "BERTH_DOMAIN": "from.env"}

    settings = load_settings(config, {"listen": "127.0.0.1:8000", "domain": None}, environ)

    assert settings.listen == "127.0.0.1:8000"
    assert settings.domain == "from.env"


def test_berth_config_variable_names_the_file(tmp_path: Path) -> None:
    config = write(tmp_path / "berth.toml", 'domain = "from.file"\n')

    settings = load_settings(environ={"BERTH_CONFIG": str(config)})

    assert settings.domain == "from.file"


def test_an_explicit_file_beats_berth_config(tmp_path: Path) -> None:
    ignored = write(tmp_path / "ignored.toml", 'domain = "ignored.test"\n')
    chosen = write(tmp_path / "chosen.toml", 'domain = "chosen.test"\n')

    settings = load_settings(chosen, environ={"BERTH_CONFIG": str(ignored)})

    assert settings.domain == "chosen.test"


def test_unrelated_environment_variables_are_ignored() -> None:
    settings = load_settings(environ={"BERTH_NOT_A_SETTING": "x", "LISTEN": "bad"})

    assert settings.listen == "127.0.0.1:5000"


@pytest.mark.parametrize(
    ("text", "expected"), [("1", True), ("on", True), ("0", False), ("off", False), ("", False)]
)
def test_boolean_spellings(text: str, expected: bool) -> None:
    assert load_settings(environ={"BERTH_INSECURE_NO_AUTH": text}).insecure_no_auth is expected


def test_storage_path_and_database_url_when_given(tmp_path: Path) -> None:
    settings = load_settings(
        overrides={"storage_path": tmp_path / "blobs", "database_url": "postgresql://db/berth"}, environ={}
    )

    assert settings.resolved_storage_path == tmp_path / "blobs"
    assert settings.resolved_database_url == "postgresql://db/berth"


def test_tls_switches_the_scheme(tmp_path: Path) -> None:
    cert = write(tmp_path / "cert.pem", "cert")
    key = write(tmp_path / "key.pem", "key")

    settings = load_settings(overrides={"tls_cert": cert, "tls_key": key}, environ={})

    assert settings.scheme == "https"


@pytest.mark.parametrize(
    ("listen", "public_port", "tls", "expected"),
    [
        ("127.0.0.1:5000", 0, False, "myreg.localhost:5000"),
        ("0.0.0.0:80", 0, False, "myreg.localhost"),
        ("0.0.0.0:8080", 80, False, "myreg.localhost"),
        ("0.0.0.0:8443", 443, True, "myreg.localhost"),
        ("0.0.0.0:443", 0, True, "myreg.localhost"),
        ("0.0.0.0:80", 0, True, "myreg.localhost:80"),
    ],
)
def test_login_server_omits_the_scheme_default_port(
    tmp_path: Path, listen: str, public_port: int, tls: bool, expected: str
) -> None:
    overrides: dict[str, object] = {"listen": listen, "public_port": public_port}
    if tls:
        overrides["tls_cert"] = write(tmp_path / "cert.pem", "cert")
        overrides["tls_key"] = write(tmp_path / "key.pem", "key")

    settings = load_settings(overrides=overrides, environ={})

    assert settings.login_server("MyReg") == expected


def test_ipv6_listen_address() -> None:
    settings = load_settings(overrides={"listen": "[::1]:5000"}, environ={})

    assert settings.host == "::1"
    assert settings.port == 5000


def test_settings_are_frozen() -> None:
    settings = Settings()

    with pytest.raises(AttributeError):
        settings.listen = "0.0.0.0:1"  # type: ignore[misc]


def test_resource_limits_have_defaults_and_take_flags() -> None:
    defaults = load_settings(environ={})
    given = load_settings(
        overrides={"max_header_bytes": 8192, "header_timeout_seconds": 3, "max_connections": 50},
        environ={"BERTH_KEEP_ALIVE_SECONDS": "5", "BERTH_STORAGE_LOW_FREE_MB": "0"},
    )

    assert (defaults.max_header_bytes, defaults.header_timeout_seconds) == (65536, 10)
    assert (defaults.keep_alive_seconds, defaults.max_connections, defaults.storage_low_free_mb) == (
        30,
        1000,
        1024,
    )
    assert (given.max_header_bytes, given.header_timeout_seconds, given.max_connections) == (8192, 3, 50)
    assert (given.keep_alive_seconds, given.storage_low_free_mb) == (5, 0)


# --- errors: one line, naming the setting ---------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "setting"),
    [
        ({"BERTH_LISTEN": "5000"}, "listen"),
        ({"BERTH_LISTEN": "localhost:http"}, "listen"),
        ({"BERTH_LISTEN": ":5000"}, "listen"),
        ({"BERTH_LISTEN": "localhost:70000"}, "listen"),
        ({"BERTH_METRICS_LISTEN": "nope"}, "metrics_listen"),
        ({"BERTH_DEFAULT_REGISTRY": "no"}, "default_registry"),
        ({"BERTH_DEFAULT_REGISTRY": "has-dash"}, "default_registry"),
        ({"BERTH_DOMAIN": "bad_domain"}, "domain"),
        ({"BERTH_DOMAIN": "a..b"}, "domain"),
        ({"BERTH_DOMAIN": "x" * 64 + ".test"}, "domain"),
        ({"BERTH_DATABASE_URL": "mysql://db/berth"}, "database_url"),
        ({"BERTH_TRUSTED_PROXIES": "10.0.0.0/8,not-an-ip"}, "trusted_proxies"),
        ({"BERTH_PUBLIC_PORT": "abc"}, "public_port"),
        ({"BERTH_PUBLIC_PORT": "70000"}, "public_port"),
        ({"BERTH_EVENT_RETENTION_DAYS": "0"}, "event_retention_days"),
        ({"BERTH_LOG_LEVEL": "chatty"}, "log_level"),
        ({"BERTH_LOG_FORMAT": "xml"}, "log_format"),
        ({"BERTH_REQUEST_LOG_SAMPLE": "101"}, "request_log_sample"),
        ({"BERTH_REQUEST_LOG": "sometimes"}, "request_log"),
        ({"BERTH_INSECURE_NO_AUTH": "maybe"}, "insecure_no_auth"),
        ({"BERTH_TLS_CERT": "/nonexistent/cert.pem"}, "tls_cert and tls_key"),
        ({"BERTH_MAX_HEADER_BYTES": "100"}, "max_header_bytes"),
        ({"BERTH_HEADER_TIMEOUT_SECONDS": "0"}, "header_timeout_seconds"),
        ({"BERTH_KEEP_ALIVE_SECONDS": "0"}, "keep_alive_seconds"),
        ({"BERTH_MAX_CONNECTIONS": "0"}, "max_connections"),
        ({"BERTH_STORAGE_LOW_FREE_MB": "-1"}, "storage_low_free_mb"),
        ({"BERTH_GC_GRACE_SECONDS": "30"}, "gc_grace_seconds"),
        ({"BERTH_GC_GRACE_SECONDS": "soon"}, "gc_grace_seconds"),
        ({"BERTH_DEFAULT_STORAGE_QUOTA": "plenty"}, "default_storage_quota"),
    ],
)
def test_a_bad_setting_is_a_one_line_error_naming_it(environ: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ)

    message = str(raised.value)
    assert message.startswith(f"{setting}: ")
    assert "\n" not in message


def test_missing_tls_files_are_named(tmp_path: Path) -> None:
    key = write(tmp_path / "key.pem", "key")

    with pytest.raises(ConfigError, match=r"^tls_cert: file .*missing\.pem does not exist$"):
        load_settings(overrides={"tls_cert": tmp_path / "missing.pem", "tls_key": key}, environ={})


def test_unknown_toml_setting_names_the_file_and_key(tmp_path: Path) -> None:
    config = write(tmp_path / "berth.toml", 'listen = "127.0.0.1:5000"\nlisten_port = 5000\n')

    with pytest.raises(ConfigError) as raised:
        load_settings(config, environ={})

    assert str(raised.value) == f"{config}: unknown setting 'listen_port'"


def test_wrong_toml_type_names_the_setting(tmp_path: Path) -> None:
    config = write(tmp_path / "berth.toml", "listen = 5000\n")

    with pytest.raises(ConfigError, match=r"^listen: 5000 must be a string$"):
        load_settings(config, environ={})


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    config = write(tmp_path / "berth.toml", "listen = \n")

    with pytest.raises(ConfigError) as raised:
        load_settings(config, environ={})

    assert str(raised.value).startswith(f"config: {config} is not valid TOML")
    assert "\n" not in str(raised.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^config: file .*absent\.toml does not exist$"):
        load_settings(tmp_path / "absent.toml", environ={})


# --- documentation --------------------------------------------------------------------------


def test_every_setting_is_documented() -> None:
    """docs/configuration.md has one row per setting, naming its variable; and no other rows."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    rows = {
        line.split("|")[1].strip().strip("`"): line for line in doc.splitlines() if line.startswith("| `")
    }

    assert set(rows) == {field.name for field in fields(Settings)}
    for field in fields(Settings):
        assert f"`BERTH_{field.name.upper()}`" in rows[field.name], field.name


def test_storage_driver_defaults_to_the_filesystem() -> None:
    assert load_settings(environ={}).storage_driver == "filesystem"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"storage_driver": "gcs"}, "storage_driver: 'gcs' is not one of filesystem, s3, azure"),
        ({"storage_driver": "s3"}, "s3_bucket: required with storage_driver = 's3'"),
        ({"storage_driver": "azure", "azure_container": "c"}, "azure_account_url: required"),
        (
            {"storage_driver": "azure", "azure_account_url": "https://a.blob.core.windows.net"},
            "azure_container",
        ),
        (
            {"s3_credentials_file": "/nonexistent/creds"},
            "s3_credentials_file: file /nonexistent/creds does not",
        ),
        ({"storage_redirect": "true"}, "storage_redirect: needs storage_driver = 's3' or 'azure'"),
        (
            {"storage_driver": "s3", "s3_bucket": "b", "storage_redirect_seconds": "1201"},
            "storage_redirect_seconds: 1201 is not between 10 and 1200",
        ),
        (
            {"storage_driver": "s3", "s3_bucket": "b", "storage_redirect_seconds": "9"},
            "storage_redirect_seconds: 9 is not between",
        ),
    ],
)
def test_storage_settings_are_checked(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(overrides=values, environ={})


def test_redirects_are_off_by_default_and_last_at_most_20_minutes() -> None:
    settings = load_settings(environ={})

    assert settings.storage_redirect is False
    assert settings.storage_redirect_seconds == 1200


def test_storage_settings_from_the_environment(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("c2VjcmV0\n")

    settings = load_settings(
        environ={
            "BERTH_STORAGE_DRIVER": "azure",
            "BERTH_AZURE_ACCOUNT_URL": "https://acct.blob.core.windows.net",
            "BERTH_AZURE_CONTAINER": "blobs",
            "BERTH_AZURE_ACCOUNT_KEY_FILE": str(key_file),
        }
    )

    assert (settings.storage_driver, settings.azure_container) == ("azure", "blobs")
    assert settings.azure_account_key_file == key_file
    assert "c2VjcmV0" not in repr(settings)  # the key itself is never a setting


def test_workers_default_to_one_on_sqlite_and_the_cores_on_postgresql(tmp_path: Path) -> None:
    import os

    sqlite = load_settings(None, {"data_dir": tmp_path}, environ={})
    assert sqlite.workers == 0
    assert sqlite.resolved_workers == 1
    postgres = load_settings(
        None, {"data_dir": tmp_path, "database_url": "postgresql://db/berth"}, environ={}
    )
    assert postgres.resolved_workers == max(1, os.cpu_count() or 1)
    assert load_settings(None, {"data_dir": tmp_path, "workers": 3}, environ={}).resolved_workers == 3
    with pytest.raises(ConfigError, match="workers"):
        load_settings(None, {"data_dir": tmp_path, "workers": -1}, environ={})


def test_the_gc_grace_period_and_the_default_quota_are_settings() -> None:
    defaults = load_settings(environ={})
    assert defaults.gc_grace_seconds == int(DEFAULT_GRACE_SECONDS) == 3600
    assert defaults.default_storage_quota == "unlimited"

    settings = load_settings(environ={"BERTH_GC_GRACE_SECONDS": "7200", "BERTH_DEFAULT_STORAGE_QUOTA": "SKU"})
    assert settings.gc_grace_seconds == 7200
    assert settings.default_storage_quota == "SKU"  # checked case-insensitively where it is used
