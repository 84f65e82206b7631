"""Blob storage: the small driver interface and its drivers."""

from berth.storage.filesystem import FilesystemDriver
from berth.storage.interface import BlobStore, StorageDriver, UploadWriter

__all__ = ["BlobStore", "FilesystemDriver", "StorageDriver", "UploadWriter"]
