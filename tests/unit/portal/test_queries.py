"""What a manifest's JSON says: layers with sizes, or an index's platforms."""

from __future__ import annotations

import json

from berth.portal.queries import parse_content


def test_an_image_manifest_gives_its_config_and_layers() -> None:
    content = json.dumps(
        {
            "config": {"digest": "sha256:c", "size": 10, "mediaType": "cfg"},
            "layers": [
                {"digest": "sha256:a", "size": 100, "mediaType": "l"},
                "junk",
                {"digest": "sha256:b", "size": True},
            ],
        }
    ).encode()
    parsed = parse_content(content)
    assert [layer.digest for layer in parsed.layers] == ["sha256:a", "sha256:b"]
    assert [layer.size for layer in parsed.layers] == [100, 0]  # a non-number size counts as 0
    assert parsed.total == 110


def test_an_index_gives_its_platforms() -> None:
    content = json.dumps(
        {
            "manifests": [
                {
                    "digest": "sha256:1",
                    "size": 5,
                    "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
                },
                {"digest": "sha256:2", "size": 6, "platform": "nonsense"},
            ]
        }
    ).encode()
    platforms = parse_content(content).platforms
    assert [(p.os, p.architecture, p.variant) for p in platforms] == [("linux", "arm64", "v8"), ("", "", "")]


def test_content_that_is_not_a_json_object_gives_nothing() -> None:
    assert parse_content(b"not json").layers == ()
    assert parse_content(b"[1, 2]").platforms == ()
