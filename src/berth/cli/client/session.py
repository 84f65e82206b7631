"""The signed-in session, kept in ``<config dir>/session.json`` with mode 0600.

The config dir is ``$BERTH_CONFIG_DIR`` if set, else ``$XDG_CONFIG_HOME/berth``, else
``~/.config/berth``. The file holds the service URL, the tenant (discovered from the
directory), who signed in, the secret needed to get new tokens (a directory refresh token
for a user, the client secret for a service principal) and cached access tokens per audience.
It is replaced atomically, and never readable by other users.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FILE_NAME = "session.json"
USER = "user"
SERVICE_PRINCIPAL = "servicePrincipal"


def config_dir() -> Path:
    explicit = os.environ.get("BERTH_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "berth"


def session_path() -> Path:
    return config_dir() / FILE_NAME


@dataclass
class CachedToken:
    access_token: str
    expires_on: float

    def fresh(self, margin: float = 300.0) -> bool:
        return self.expires_on - margin > time.time()


@dataclass
class Session:
    server: str  # e.g. https://berth.example:5000 (no trailing slash)
    tenant_id: str
    token_endpoint: str
    issuer: str
    subscription_id: str
    user_name: str  # UPN, or the service principal's app id
    user_type: str  # USER or SERVICE_PRINCIPAL
    refresh_token: str | None = None  # users
    client_secret: str | None = None  # service principals
    federated_token: str | None = None  # service principals signing in with an external issuer's token
    ca_cert: str | None = None
    tokens: dict[str, CachedToken] = field(default_factory=dict)

    @property
    def scheme(self) -> str:
        return self.server.split("://", 1)[0]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        tokens = {k: CachedToken(**v) for k, v in dict(data.get("tokens") or {}).items()}
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "tokens"}
        return cls(**known, tokens=tokens)


class SessionFileError(ValueError):
    """The session file exists but cannot be used; the message says which file and why."""


def load(path: Path | None = None) -> Session | None:
    path = path or session_path()
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SessionFileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return Session.from_json(json.loads(text))
    except (ValueError, TypeError) as exc:
        raise SessionFileError(f"{path} is damaged ({exc}); run 'berth login' again") from None


def save(session: Session, path: Path | None = None) -> Path:
    """Write the session atomically; the file is created 0600 and the folder 0700."""
    path = path or session_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(prefix=".session-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w") as handle:
            os.fchmod(handle.fileno(), 0o600)
            json.dump(session.to_json(), handle, indent=2)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    os.chmod(path, 0o600)
    return path


def delete(path: Path | None = None) -> bool:
    path = path or session_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
