"""What a command needs from the signed-in session, built on first use.

:func:`current` returns the :class:`Context` of this process; tests may :func:`use` another.
"""

from __future__ import annotations

from functools import cached_property
from urllib.parse import urlsplit

import httpx

from berth.cli.client import session as session_file
from berth.cli.client.directory import LOGIN_AGAIN, MANAGEMENT, Credential
from berth.cli.client.http import new_client
from berth.cli.client.management import ManagementClient
from berth.cli.client.session import Session, SessionFileError
from berth.cli.framework import CliError


class Context:
    @cached_property
    def session(self) -> Session:
        try:
            found = session_file.load()
        except SessionFileError as exc:
            raise CliError(str(exc)) from None
        if found is None:
            raise CliError(LOGIN_AGAIN)
        return found

    def has_session(self) -> bool:
        try:
            return self.session is not None
        except CliError:
            return False

    @cached_property
    def http(self) -> httpx.Client:
        ca_cert = self.session.ca_cert if self.has_session() else None
        return new_client(ca_cert)

    @cached_property
    def credential(self) -> Credential:
        return Credential(self.session, self.http)

    @cached_property
    def management(self) -> ManagementClient:
        return ManagementClient(
            self.http,
            self.session.server,
            lambda: self.credential.token(MANAGEMENT),
            self.session.subscription_id,
        )

    @property
    def scheme(self) -> str:
        """The scheme of the service, used for login servers too (http only for local installs)."""
        return self.session.scheme

    @property
    def service_host(self) -> str:
        """``<domain>[:port]`` the service advertises; registries are ``<name>.<service host>``."""
        return urlsplit(self.session.issuer).netloc or urlsplit(self.session.server).netloc

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()


_current: Context | None = None


def current() -> Context:
    global _current
    if _current is None:
        _current = Context()
    return _current


def use(context: Context | None) -> None:
    """Replace this process's context (``None``: build a fresh one on next use)."""
    global _current
    if _current is not None and _current is not context:
        _current.close()
    _current = context
