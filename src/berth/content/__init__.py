"""The registry's content domain: blobs, uploads and manifests of one registry."""
