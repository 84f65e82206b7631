"""Reading a registry's ``WWW-Authenticate`` challenge.

``Bearer realm="https://r.example/oauth2/token",service="r.example",scope="repository:a:pull"``
→ ``Challenge("bearer", {"realm": ..., "service": ..., "scope": ...})``. Quoted values may hold
commas (scopes with several actions); unquoted values end at a comma or blank. The token
endpoints are derived from the scheme and host of ``realm``, as the az CLI derives them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)')


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "bearer" or "basic"
    params: dict[str, str] = field(default_factory=dict)

    @property
    def is_bearer(self) -> bool:
        return self.scheme == "bearer"

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def usable(self) -> bool:
        """A Bearer challenge naming ``realm`` and ``service``: what the token flow needs."""
        return self.is_bearer and bool(self.realm) and bool(self.service)

    def endpoint(self, path: str) -> str:
        """``<realm scheme>://<realm host><path>``, e.g. ``/oauth2/exchange``."""
        parts = urlsplit(self.realm or "")
        return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def parse_challenge(header: str | None) -> Challenge | None:
    """The challenge in ``header``, or ``None`` when there is no auth scheme to read."""
    if not header or not header.strip():
        return None
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None or match.end() == position:
            break
        key, quoted, bare = match.groups()
        value = quoted if quoted is not None else bare
        params[key.lower()] = re.sub(r"\\(.)", r"\1", value)
        position = match.end()
    return Challenge(scheme.lower(), params)
