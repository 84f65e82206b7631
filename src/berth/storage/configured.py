"""The storage driver the settings choose (``storage_driver``), built with its credentials.

Credentials are never settings and never logged. S3: ``s3_credentials_file`` (an AWS shared
credentials file, its ``[default]`` profile) or boto3's own chain (``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, ``~/.aws``, an instance role). Azure: ``azure_account_key_file``
(a file holding the account key) or ``AZURE_STORAGE_KEY``, else azure-identity's
``DefaultAzureCredential`` (a managed identity, workload identity, environment credential).
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from berth.config import ConfigError, Settings
from berth.storage.filesystem import FilesystemDriver
from berth.storage.interface import StorageDriver


def build_storage(settings: Settings, environ: Mapping[str, str] | None = None) -> StorageDriver:
    environ = os.environ if environ is None else environ
    if settings.storage_driver == "s3":
        return _s3(settings)
    if settings.storage_driver == "azure":
        return _azure(settings, environ)
    return FilesystemDriver(settings.resolved_storage_path)


def _s3(settings: Settings) -> StorageDriver:
    import boto3

    from berth.storage.s3 import S3Driver, client_config

    options: dict[str, Any] = {}
    if settings.s3_credentials_file is not None:
        profile = configparser.ConfigParser()
        profile.read(settings.s3_credentials_file)
        if not profile.has_option("default", "aws_access_key_id"):
            raise ConfigError(
                f"s3_credentials_file: {settings.s3_credentials_file} has no [default] aws_access_key_id"
            )
        options["aws_access_key_id"] = profile.get("default", "aws_access_key_id")
        options["aws_secret_access_key"] = profile.get("default", "aws_secret_access_key", fallback="")
        if profile.has_option("default", "aws_session_token"):
            options["aws_session_token"] = profile.get("default", "aws_session_token")
    client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint or None,
        region_name=settings.s3_region or None,
        config=client_config(),
        **options,
    )
    return S3Driver(client, settings.s3_bucket, prefix=settings.storage_prefix)


def azure_account_name(settings: Settings) -> str:
    """``azure_account``, else the account in the URL: its first host label, or the first
    path segment for an emulator's ``http://127.0.0.1:10000/<account>``."""
    if settings.azure_account:
        return settings.azure_account
    parts = urlsplit(settings.azure_account_url)
    host = parts.hostname or ""
    if host in ("localhost",) or host.replace(".", "").isdigit() or ":" in host:
        return parts.path.strip("/").split("/", 1)[0]
    return host.split(".", 1)[0]


def _azure(settings: Settings, environ: Mapping[str, str]) -> StorageDriver:
    from azure.storage.blob import ContainerClient

    from berth.storage.azure import AzureDriver

    key: str | None = None
    if settings.azure_account_key_file is not None:
        key = settings.azure_account_key_file.read_text().strip()
    elif environ.get("AZURE_STORAGE_KEY"):
        key = environ["AZURE_STORAGE_KEY"].strip()
    credential: Any
    if key:
        credential = {"account_name": azure_account_name(settings), "account_key": key}
    else:
        if settings.storage_redirect:
            raise ConfigError(
                "storage_redirect: the azure driver signs SAS URLs with the account key: "
                "set azure_account_key_file or AZURE_STORAGE_KEY, or turn storage_redirect off"
            )
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    container = ContainerClient(settings.azure_account_url, settings.azure_container, credential=credential)
    return AzureDriver(container, prefix=settings.storage_prefix, account_key=key)
