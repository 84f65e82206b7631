"""The portal's static files, served under a content hash so browsers may keep them for a year."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

STATIC = Path(__file__).parent / "static"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    name: str
    version: str
    body: bytes
    media_type: str


class Assets:
    """Every file of ``static/``, read once; ``url(name)`` is ``/portal/static/<hash>/<name>``."""

    def __init__(self, folder: Path = STATIC, prefix: str = "/portal/static") -> None:
        self.prefix = prefix
        self._files: dict[str, Asset] = {}
        for path in sorted(folder.iterdir()):
            if path.is_file():
                body = path.read_bytes()
                version = hashlib.sha256(body).hexdigest()[:12]
                media = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
                self._files[path.name] = Asset(path.name, version, body, media)

    def url(self, name: str) -> str:
        return f"{self.prefix}/{self._files[name].version}/{name}"

    async def serve(self, request: Request) -> Response:
        asset = self._files.get(request.path_params["name"])
        if asset is None or asset.version != request.path_params["version"]:
            return Response("Not found", status_code=404, media_type="text/plain")
        return Response(
            asset.body,
            media_type=asset.media_type,
            headers={"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"},
        )
