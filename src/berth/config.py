"""One typed settings object, read from defaults < TOML file < ``BERTH_*`` variables < flags.

Every setting has one name used everywhere: ``listen`` in TOML, ``BERTH_LISTEN`` in the
environment, ``--listen`` on ``berth serve``. :func:`load_settings` validates the result and
raises :class:`ConfigError` with a one-line message naming the bad setting.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from berth.names import InvalidName, check_registry_name
from berth.sizes import parse_default_quota

ENV_PREFIX = "BERTH_"
# ``berth tls init`` writes here by default; ``berth serve`` uses the pair found here when
# neither tls_cert nor tls_key is set (see load_settings and docs/tls.md).
TLS_DIR = "tls"
TLS_CERT_FILE = "server.crt"
TLS_KEY_FILE = "server.key"
# Bounds of a redirect URL's lifetime: long enough to start a download, short enough that a
# leaked URL soon stops working.
MIN_REDIRECT_SECONDS = 10
MAX_REDIRECT_SECONDS = 20 * 60


class ConfigError(ValueError):
    """A setting that cannot be used; the message names it and says why in one line."""


@dataclass(frozen=True)
class Settings:
    listen: str = "127.0.0.1:5000"
    data_dir: Path = field(default_factory=lambda: _default_data_dir())
    domain: str = "localhost"
    default_registry: str = "default"
    database_url: str = ""
    storage_path: Path | None = None
    # Blob storage driver (docs/configuration.md#object-storage): filesystem, s3 or azure.
    # Credentials are never settings: they come from the environment or a file named here.
    storage_driver: str = "filesystem"
    storage_prefix: str = ""
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = ""
    s3_credentials_file: Path | None = None
    azure_account_url: str = ""
    azure_account: str = ""
    azure_container: str = ""
    azure_account_key_file: Path | None = None
    # Answer blob GETs with a 307 to a short-lived presigned (S3) or SAS (Azure) URL instead
    # of proxying the bytes (docs/configuration.md#redirects), as Distribution's ``redirect``.
    storage_redirect: bool = False
    storage_redirect_seconds: int = 1200
    tls_cert: Path | None = None
    tls_key: Path | None = None
    public_port: int = 0
    insecure_no_auth: bool = False
    trusted_proxies: tuple[str, ...] = ()
    metrics_listen: str = ""
    event_retention_days: int = 30
    upload_max_age_hours: int = 168
    # Garbage collection (docs/configuration.md#garbage-collection-and-quotas): a blob recorded
    # less than this long ago is never collected, so the manifest that will name it can follow.
    gc_grace_seconds: int = 3600
    # The storage quota of a registry that sets none: "unlimited", "sku" (ACR's included storage
    # of the registry's SKU) or a size such as "20GiB" (berth.content.quota).
    default_storage_quota: str = "unlimited"
    bootstrap_password: str = ""
    auth_failures_per_ip: int = 60
    auth_failures_per_identity: int = 10
    auth_failures_per_identity_total: int = 600
    auth_failure_window_seconds: int = 60
    anonymous_pull_lists_catalog: bool = False
    portal: bool = True  # the web portal under /portal/ (docs/portal.md)
    log_level: str = "info"
    # Resource limits (docs/configuration.md, docs/security.md#resources).
    storage_low_free_mb: int = 1024
    max_header_bytes: int = 64 * 1024
    header_timeout_seconds: int = 10
    keep_alive_seconds: int = 30
    max_connections: int = 1000
    log_format: str = "text"
    request_log: bool = True
    request_log_sample: int = 100
    # Worker processes of `berth serve` (docs/deployment.md): 0 picks one on SQLite and one
    # per core on PostgreSQL.
    workers: int = 0

    @property
    def host(self) -> str:
        return _split_address(self.listen, "listen")[0]

    @property
    def port(self) -> int:
        return _split_address(self.listen, "listen")[1]

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def resolved_workers(self) -> int:
        """``workers``, or its default: 1 on SQLite (one writer, one host), the cores on PostgreSQL."""
        if self.workers > 0:
            return self.workers
        return 1 if self.is_sqlite else max(1, os.cpu_count() or 1)

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    @property
    def advertised_port(self) -> int:
        return self.public_port or self.port

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'metadata.db'}"

    @property
    def resolved_storage_path(self) -> Path:
        return self.storage_path or self.data_dir / "storage"

    @property
    def service_url(self) -> str:
        """The service's own base URL (directory, management API) as clients reach it."""
        default_port = 443 if self.scheme == "https" else 80
        port = self.advertised_port
        suffix = "" if port == default_port else f":{port}"
        return f"{self.scheme}://{self.domain}{suffix}"

    def login_server(self, registry_name: str) -> str:
        """``<name lower-cased>.<domain>[:port]``, the port omitted when it is the scheme's.

        The default registry's login server is the bare ``<domain>[:port]`` (``localhost:5000``
        out of the box), so a single-registry install needs no DNS entry.
        """
        is_default = registry_name.lower() == self.default_registry.lower()
        host = self.domain if is_default else f"{registry_name.lower()}.{self.domain}"
        default_port = 443 if self.scheme == "https" else 80
        port = self.advertised_port
        return host if port == default_port else f"{host}:{port}"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "berth"


def _split_address(value: str, name: str) -> tuple[str, int]:
    host, sep, port_text = value.rpartition(":")
    if not sep or not port_text.isdigit() or not host:
        raise ConfigError(f"{name}: {value!r} is not of the form HOST:PORT (e.g. 127.0.0.1:5000)")
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ConfigError(f"{name}: port {port} is out of range")
    return host.strip("[]"), port


_FIELD_TYPES = {f.name: f for f in fields(Settings)}


def _coerce(name: str, raw: Any) -> Any:
    """Turn a TOML value, environment string or flag value into the type of setting ``name``."""
    default = getattr(Settings(), name)
    kind = type(default)
    if name in (
        "storage_path",
        "tls_cert",
        "tls_key",
        "data_dir",
        "s3_credentials_file",
        "azure_account_key_file",
    ):
        if raw in (None, ""):
            return None if name != "data_dir" else _default_data_dir()
        return Path(str(raw)).expanduser()
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{name}: {raw!r} is not a boolean (use true or false)")
    if kind is int:
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: {raw!r} is not a whole number") from None
    if kind is tuple:
        items = raw if isinstance(raw, list | tuple) else [p for p in str(raw).split(",") if p.strip()]
        return tuple(str(item).strip() for item in items)
    if not isinstance(raw, str):
        raise ConfigError(f"{name}: {raw!r} must be a string")
    return raw


def _from_mapping(source: Mapping[str, Any], origin: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, raw in source.items():
        name = key.replace("-", "_")
        if name not in _FIELD_TYPES:
            raise ConfigError(f"{origin}: unknown setting {key!r}")
        values[name] = _coerce(name, raw)
    return values


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _FIELD_TYPES:
        env_name = ENV_PREFIX + name.upper()
        if env_name in environ:
            values[name] = _coerce(name, environ[env_name])
    return values


def load_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    detect_tls: bool = True,
) -> Settings:
    """Defaults, then the TOML file, then ``BERTH_*`` variables, then explicit overrides.

    With ``detect_tls`` and neither ``tls_cert`` nor ``tls_key`` given, the pair that
    ``berth tls init`` writes to ``<data_dir>/tls/`` is used when both files exist.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = config_file or (Path(environ["BERTH_CONFIG"]) if environ.get("BERTH_CONFIG") else None)
    if config_file is not None:
        try:
            document = tomllib.loads(config_file.read_text())
        except FileNotFoundError:
            raise ConfigError(f"config: file {config_file} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config: {config_file} is not valid TOML: {exc}") from None
        values.update(_from_mapping(document, str(config_file)))
    values.update(_from_environment(environ))
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    values.update(_from_mapping(given, "overrides"))
    settings = replace(Settings(), **values)
    if detect_tls and settings.tls_cert is None and settings.tls_key is None:
        settings = _with_local_tls(settings)
    validate(settings)
    return settings


def _with_local_tls(settings: Settings) -> Settings:
    folder = settings.data_dir / TLS_DIR
    cert, key = folder / TLS_CERT_FILE, folder / TLS_KEY_FILE
    if cert.is_file() and key.is_file():
        return replace(settings, tls_cert=cert, tls_key=key)
    if cert.exists() or key.exists():
        present, missing = (cert, key) if cert.exists() else (key, cert)
        raise ConfigError(
            f"tls: {present} exists but {missing} does not; run `berth tls init` to write both, "
            "or remove the folder to serve plain HTTP"
        )
    return settings


def validate(settings: Settings) -> None:
    _split_address(settings.listen, "listen")
    if not 0 <= settings.workers <= 256:
        raise ConfigError(f"workers: {settings.workers} is not between 0 (automatic) and 256")
    if settings.metrics_listen:
        _split_address(settings.metrics_listen, "metrics_listen")
    try:
        check_registry_name(settings.default_registry)
    except InvalidName as exc:
        raise ConfigError(f"default_registry: {exc}") from None
    domain = settings.domain
    if (
        not domain
        or any(not label or len(label) > 63 for label in domain.split("."))
        or not all(c.isalnum() or c in ".-" for c in domain)
    ):
        raise ConfigError(f"domain: {domain!r} is not a valid DNS name")
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise ConfigError("tls_cert and tls_key: give both or neither")
    for name in ("tls_cert", "tls_key"):
        path = getattr(settings, name)
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"{name}: file {path} does not exist")
    url = settings.resolved_database_url
    if not url.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://", "postgres://")):
        raise ConfigError(f"database_url: {url!r} is not a sqlite:// or postgresql:// URL")
    for proxy in settings.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(f"trusted_proxies: {proxy!r} is not an IP address or CIDR") from None
    if not 0 <= settings.public_port <= 65535:
        raise ConfigError(f"public_port: {settings.public_port} is out of range")
    if settings.event_retention_days < 1:
        raise ConfigError("event_retention_days: must be at least 1")
    if settings.upload_max_age_hours < 1:
        raise ConfigError("upload_max_age_hours: must be at least 1")
    if settings.gc_grace_seconds < 60:
        raise ConfigError("gc_grace_seconds: must be at least 60 (a push's blobs come before its manifest)")
    _validate_quota(settings)
    _validate_limits(settings)
    _validate_storage(settings)
    if settings.log_format not in ("text", "json"):
        raise ConfigError(f"log_format: {settings.log_format!r} is not text or json")
    if not 0 <= settings.request_log_sample <= 100:
        raise ConfigError(f"request_log_sample: {settings.request_log_sample} is not a percentage (0 to 100)")
    if settings.log_level.lower() not in ("critical", "error", "warning", "info", "debug"):
        raise ConfigError(f"log_level: {settings.log_level!r} is not one of error, warning, info, debug")


def _validate_storage(settings: Settings) -> None:
    driver = settings.storage_driver
    if driver not in ("filesystem", "s3", "azure"):
        raise ConfigError(f"storage_driver: {driver!r} is not one of filesystem, s3, azure")
    required = {"s3": ("s3_bucket",), "azure": ("azure_account_url", "azure_container")}.get(driver, ())
    for name in required:
        if not getattr(settings, name):
            raise ConfigError(f"{name}: required with storage_driver = {driver!r}")
    if settings.storage_redirect and driver == "filesystem":
        raise ConfigError("storage_redirect: needs storage_driver = 's3' or 'azure' (a folder has no URL)")
    if not MIN_REDIRECT_SECONDS <= settings.storage_redirect_seconds <= MAX_REDIRECT_SECONDS:
        raise ConfigError(
            f"storage_redirect_seconds: {settings.storage_redirect_seconds} is not between "
            f"{MIN_REDIRECT_SECONDS} and {MAX_REDIRECT_SECONDS} (20 minutes, Distribution's lifetime)"
        )
    for name in ("s3_credentials_file", "azure_account_key_file"):
        path = getattr(settings, name)
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"{name}: file {path} does not exist")


def _validate_quota(settings: Settings) -> None:
    try:
        parse_default_quota(settings.default_storage_quota)
    except ValueError as exc:
        raise ConfigError(f"default_storage_quota: {exc}") from None


def _validate_limits(settings: Settings) -> None:
    minimums = {
        "storage_low_free_mb": 0,
        "max_header_bytes": 1024,
        "header_timeout_seconds": 1,
        "keep_alive_seconds": 1,
        "max_connections": 1,
    }
    for name, minimum in minimums.items():
        if getattr(settings, name) < minimum:
            raise ConfigError(f"{name}: must be at least {minimum}")
