"""az's connectivity error catalogue (``acr/_errors.py``), with ``az`` read as ``berth``.

``berth acr login`` and the repository commands raise these as one-line errors or warnings;
``berth acr check-health`` reports them in az's two-line form (:meth:`DiagnosticError.report`).
The deep link is ``https://aka.ms/acr/errors#<code lower case>``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime


@dataclass(frozen=True)
class DiagnosticError:
    code: str
    message: str
    is_fatal: bool = True

    def format(self, *args: object) -> DiagnosticError:
        return replace(self, message=self.message.format(*args))

    def with_message(self, message: str) -> DiagnosticError:
        return replace(self, message=message)

    def line(self) -> str:
        """One line, for ``ERROR:``/``WARNING:`` output."""
        return f"An error occurred: {self.code}. {self.message}"

    def report(self) -> str:
        """az's form: ``<UTC timestamp> An error occurred: <CODE>`` then the message."""
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return f"{stamp} An error occurred: {self.code}\n{self.message}"

    @property
    def link(self) -> str:
        return f"https://aka.ms/acr/errors#{self.code.lower()}"


DOCKER_COMMAND_ERROR = DiagnosticError(
    "DOCKER_COMMAND_ERROR", "Please verify if Docker client is installed and running."
)
DOCKER_DAEMON_ERROR = DiagnosticError(
    "DOCKER_DAEMON_ERROR", "Please verify if Docker daemon is running, or try restarting it.", False
)
CONNECTIVITY_DNS_ERROR = DiagnosticError(
    "CONNECTIVITY_DNS_ERROR",
    "Failed to reach DNS for registry '{}'. Please check if the spelling is correct, if the CLI "
    "environment is on correct cloud and your network connectivity.",
)
CONNECTIVITY_FORBIDDEN_ERROR = DiagnosticError(
    "CONNECTIVITY_FORBIDDEN_ERROR",
    "Looks like you don't have access to registry '{}'. To see configured firewall rules, run "
    "'berth acr show --query networkRuleSet --name {}'.",
)
CONNECTIVITY_CHALLENGE_ERROR = DiagnosticError(
    "CONNECTIVITY_CHALLENGE_ERROR", "Registry '{}' did not issue a challenge."
)
CONNECTIVITY_AAD_LOGIN_ERROR = DiagnosticError(
    "CONNECTIVITY_AAD_LOGIN_ERROR", "Registry '{}' does not support AAD login."
)
CONNECTIVITY_WWW_AUTHENTICATE_ERROR = DiagnosticError(
    "CONNECTIVITY_WWW_AUTHENTICATE_ERROR",
    "Registry '{}' did not ask properly for a basic or a bearer authentication.",
)
CONNECTIVITY_REFRESH_TOKEN_ERROR = DiagnosticError(
    "CONNECTIVITY_REFRESH_TOKEN_ERROR",
    "Access to registry '{}' was denied. Response code: {}. Please try running 'berth login' again to "
    "refresh permissions.",
)
CONNECTIVITY_ACCESS_TOKEN_ERROR = DiagnosticError(
    "CONNECTIVITY_ACCESS_TOKEN_ERROR",
    "Access to registry '{}' was denied. Response code: {}. Please try running 'berth login' again to "
    "refresh permissions.",
)
CONNECTIVITY_SSL_ERROR = DiagnosticError(
    "CONNECTIVITY_SSL_ERROR",
    "Unable to establish a secure connection to the registry '{}'. Are you using a proxy server?",
)
CONNECTIVITY_TOOMANYREQUESTS_ERROR = DiagnosticError(
    "CONNECTIVITY_TOOMANYREQUESTS_ERROR",
    "Too many requests, access to registry '{}' was denied. Please wait a moment before trying again.",
)
LOGIN_SERVER_ERROR = DiagnosticError(
    "LOGIN_SERVER_ERROR",
    "An error occurred while retrieving the login server for registry '{}'. Please check if the spelling "
    "is correct, if the CLI environment is on correct cloud and if you have the right permissions on it.",
)
UNEXPECTED_ERROR = DiagnosticError("UNEXPECTED_ERROR", "An unexpected error occurred.")
