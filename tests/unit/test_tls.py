"""``berth tls init``: the CA and server certificate it writes, and how ``berth serve`` finds them.

Certificates are checked with real TLS handshakes (Python's ``ssl`` over memory BIOs, with
strict X.509 verification), not by reading fields only.
"""

from __future__ import annotations

import datetime
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from typer.testing import CliRunner

from berth.cli.root import app as cli
from berth.config import ConfigError, load_settings
from berth.metadata import registries as registry_rows
from berth.metadata.database import Database
from berth.server import describe
from berth.tls import (
    TlsError,
    create_ca,
    create_server_certificate,
    init_folder,
    server_names,
)


def handshake(folder: Path, server_name: str) -> None:
    """A full TLS handshake between berth's server pair and a client trusting only ca.crt."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(folder / "server.crt", folder / "server.key")
    client_ctx = ssl.create_default_context(cafile=str(folder / "ca.crt"))
    client_ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    client_ctx.minimum_version = ssl.TLSVersion.TLSv1_2

    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=server_name)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(20):
        for name, end in (("client", client), ("server", server)):
            if done[name]:
                continue
            try:
                end.do_handshake()
                done[name] = True
            except ssl.SSLWantReadError:
                pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            return
    raise AssertionError("the handshake did not finish")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    init_folder(tmp_path / "tls", "registry.test", days=30)
    return tmp_path / "tls"


def test_server_names_cover_domain_wildcard_localhost_and_loopback() -> None:
    assert server_names("Registry.Test") == ("registry.test", "*.registry.test", "localhost", "127.0.0.1")
    assert server_names("localhost") == ("localhost", "*.localhost", "127.0.0.1")


def test_server_names_add_each_registrys_login_server() -> None:
    assert server_names("localhost", ["MyReg", "other"]) == (
        "localhost",
        "*.localhost",
        "myreg.localhost",
        "other.localhost",
        "127.0.0.1",
    )


def test_init_writes_four_files_with_private_keys_unreadable_to_others(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == ["ca.crt", "ca.key", "server.crt", "server.key"]
    for name in ("ca.key", "server.key"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    for name in ("ca.crt", "server.crt"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o644


@pytest.mark.parametrize("name", ["registry.test", "myreg.registry.test", "localhost", "127.0.0.1"])
def test_clients_trusting_the_ca_accept_every_name(folder: Path, name: str) -> None:
    handshake(folder, name)


@pytest.mark.parametrize("name", ["example.com", "a.b.registry.test", "registry.test.evil", "127.0.0.2"])
def test_other_names_are_refused(folder: Path, name: str) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(folder, name)


def test_a_client_without_the_ca_refuses_the_server(folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    init_folder(other, "registry.test")
    (folder / "ca.crt").write_bytes((other / "ca.crt").read_bytes())
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(folder, "localhost")


def test_certificate_contents(folder: Path) -> None:
    chain = x509.load_pem_x509_certificates((folder / "server.crt").read_bytes())
    ca = x509.load_pem_x509_certificate((folder / "ca.crt").read_bytes())
    leaf = chain[0]
    assert [c.fingerprint(leaf.signature_hash_algorithm) for c in chain[1:]] == [  # type: ignore[arg-type]
        ca.fingerprint(leaf.signature_hash_algorithm)  # type: ignore[arg-type]
    ]
    assert leaf.issuer == ca.subject
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    lifetime = leaf.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(days=29) < lifetime <= datetime.timedelta(days=30)
    assert ca.not_valid_after_utc - leaf.not_valid_after_utc > datetime.timedelta(days=3000)


def test_running_again_reuses_the_ca_and_issues_a_new_server_certificate(folder: Path) -> None:
    ca_before = (folder / "ca.crt").read_bytes()
    server_before = (folder / "server.crt").read_bytes()

    files = init_folder(folder, "other.test")

    assert files.ca_created is False
    assert (folder / "ca.crt").read_bytes() == ca_before
    assert (folder / "server.crt").read_bytes() != server_before
    handshake(folder, "x.other.test")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(folder, "x.registry.test")


def test_new_ca_replaces_the_ca(folder: Path) -> None:
    ca_before = (folder / "ca.crt").read_bytes()
    files = init_folder(folder, "registry.test", new_ca=True)
    assert files.ca_created is True
    assert (folder / "ca.crt").read_bytes() != ca_before
    handshake(folder, "localhost")


def test_half_a_ca_is_an_error(folder: Path) -> None:
    (folder / "ca.key").unlink()
    with pytest.raises(TlsError, match="without its pair"):
        init_folder(folder, "registry.test")


def test_a_ca_key_that_does_not_match_is_an_error(folder: Path, tmp_path: Path) -> None:
    init_folder(tmp_path / "other", "registry.test")
    (folder / "ca.key").write_bytes((tmp_path / "other" / "ca.key").read_bytes())
    with pytest.raises(TlsError, match="is not the key of"):
        init_folder(folder, "registry.test")


def test_server_certificate_may_not_outlive_the_ca() -> None:
    ca_key, ca_cert = create_ca(days=10)
    with pytest.raises(TlsError, match="CA expires"):
        create_server_certificate(ca_key, ca_cert, "localhost", days=20)
    with pytest.raises(TlsError, match="at least 1 day"):
        create_server_certificate(ca_key, ca_cert, "localhost", days=0)


# --- berth serve: settings --------------------------------------------------------------------


def test_serve_uses_the_pair_in_data_dir_tls(tmp_path: Path) -> None:
    init_folder(tmp_path / "tls", "localhost")

    settings = load_settings(overrides={"data_dir": tmp_path}, environ={})

    assert settings.tls_cert == tmp_path / "tls" / "server.crt"
    assert settings.tls_key == tmp_path / "tls" / "server.key"
    assert settings.scheme == "https"
    assert settings.service_url == "https://localhost:5000"
    assert "TLS certificate" in describe(settings)


def test_without_the_files_serve_stays_on_http(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path}, environ={})
    assert settings.tls_cert is None
    assert settings.scheme == "http"
    assert "TLS" not in describe(settings)


def test_explicit_tls_settings_win_over_the_data_dir_pair(tmp_path: Path) -> None:
    init_folder(tmp_path / "tls", "localhost")
    init_folder(tmp_path / "elsewhere", "localhost")
    cert, key = tmp_path / "elsewhere" / "server.crt", tmp_path / "elsewhere" / "server.key"

    settings = load_settings(
        overrides={"data_dir": tmp_path},
        environ={"BERTH_TLS_CERT": str(cert), "BERTH_TLS_KEY": str(key)},
    )

    assert (settings.tls_cert, settings.tls_key) == (cert, key)


@pytest.mark.parametrize("missing", ["server.key", "server.crt"])
def test_half_a_pair_in_data_dir_is_a_config_error(tmp_path: Path, missing: str) -> None:
    init_folder(tmp_path / "tls", "localhost")
    (tmp_path / "tls" / missing).unlink()

    with pytest.raises(ConfigError, match=r"^tls: .* exists but .* does not; run `berth tls init`"):
        load_settings(overrides={"data_dir": tmp_path}, environ={})
    assert load_settings(overrides={"data_dir": tmp_path}, environ={}, detect_tls=False).tls_cert is None


# --- the command --------------------------------------------------------------------------------


def test_tls_init_command_writes_files_and_prints_next_steps(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["tls", "init", "--data-dir", str(tmp_path), "--domain", "registry.test", "--days", "90"]
    )

    assert result.exit_code == 0, result.output
    folder = tmp_path / "tls"
    handshake(folder, "myreg.registry.test")
    out = result.output
    for path in ("ca.crt", "ca.key", "server.crt", "server.key"):
        assert str(folder / path) in out
    assert "registry.test, *.registry.test, localhost, 127.0.0.1" in out
    assert f"berth serve --data-dir {tmp_path}" in out
    assert "/etc/docker/certs.d/localhost:5000/ca.crt" in out
    assert "/etc/containers/certs.d/localhost:5000/ca.crt" in out
    assert f"REQUESTS_CA_BUNDLE={folder / 'ca.crt'}" in out
    assert f"SSL_CERT_FILE={folder / 'ca.crt'}" in out
    assert "signed by a new local CA" in out

    again = CliRunner().invoke(cli, ["tls", "init", "--data-dir", str(tmp_path), "--domain", "registry.test"])
    assert again.exit_code == 0, again.output
    assert "signed by the existing local CA" in again.output


def test_tls_init_with_out_tells_to_pass_the_flags(tmp_path: Path) -> None:
    out = tmp_path / "certs"
    result = CliRunner().invoke(cli, ["tls", "init", "--data-dir", str(tmp_path / "data"), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert f"--tls-cert {out / 'server.crt'} --tls-key {out / 'server.key'}" in result.output
    assert not (tmp_path / "data" / "tls").exists()


def test_tls_init_uses_the_domain_and_port_settings(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["tls", "init"],
        env={"BERTH_DATA_DIR": str(tmp_path), "BERTH_DOMAIN": "corp.test", "BERTH_LISTEN": "0.0.0.0:8443"},
    )

    assert result.exit_code == 0, result.output
    assert "corp.test, *.corp.test, localhost, 127.0.0.1" in result.output
    assert "/etc/docker/certs.d/localhost:8443/ca.crt" in result.output
    handshake(tmp_path / "tls", "a.corp.test")


def test_tls_init_rejects_a_bad_domain(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["tls", "init", "--data-dir", str(tmp_path), "--domain", "bad_domain!"])
    assert result.exit_code == 2
    assert "domain" in result.output
    assert not (tmp_path / "tls").exists()


def test_tls_init_names_the_registries_berth_has_and_those_given(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'metadata.db'}")
    db.create_schema()
    db.write_sync(registry_rows.ensure, "default")
    db.write_sync(registry_rows.create, "stored1")
    db.dispose()

    result = CliRunner().invoke(
        cli, ["tls", "init", "--data-dir", str(tmp_path), "--domain", "localhost", "--registry", "extra1"]
    )

    assert result.exit_code == 0, result.output
    assert "localhost, *.localhost, stored1.localhost, extra1.localhost, 127.0.0.1" in result.output
    assert "refuse the wildcard *.localhost" in result.output
    handshake(tmp_path / "tls", "stored1.localhost")
    handshake(tmp_path / "tls", "extra1.localhost")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tmp_path / "tls", "unnamed.localhost")


def test_tls_init_does_not_warn_for_a_multi_label_domain(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["tls", "init", "--data-dir", str(tmp_path), "--domain", "registry.test"]
    )

    assert result.exit_code == 0, result.output
    assert "refuse the wildcard" not in result.output
    assert not (tmp_path / "metadata.db").exists()
