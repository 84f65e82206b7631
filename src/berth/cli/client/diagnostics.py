"""The entries of az's connectivity error catalogue (``acr/_errors.py``) that ``berth acr login``
and the repository commands raise, as one-line errors or warnings, with ``az`` read as ``berth``.

``berth acr check-health`` does not use these: its findings come from :mod:`berth.troubleshoot`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


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


DOCKER_COMMAND_ERROR = DiagnosticError(
    "DOCKER_COMMAND_ERROR", "Please verify if Docker client is installed and running."
)
DOCKER_DAEMON_ERROR = DiagnosticError(
    "DOCKER_DAEMON_ERROR", "Please verify if Docker daemon is running, or try restarting it.", False
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
CONNECTIVITY_TOOMANYREQUESTS_ERROR = DiagnosticError(
    "CONNECTIVITY_TOOMANYREQUESTS_ERROR",
    "Too many requests, access to registry '{}' was denied. Please wait a moment before trying again.",
)
