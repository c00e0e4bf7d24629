"""The lockdown profile travels from the paper (paper.json "lockdown") into the signed
package header, where the client reads it when the exam starts; unknown values are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client.config import load_settings
from client.errors import UserFacingError
from client.lockdown.policy import Profile, profile_from_extra
from client.paper.model import Paper
from client.resources import resource_path
from client.session.factory import create_session
from server.testing import live_server


def demo_document() -> dict[str, object]:
    document: dict[str, object] = json.loads(
        resource_path("demo", "paper", "paper.json").read_text(encoding="utf-8"))
    return document


def demo_media() -> dict[str, bytes]:
    folder = resource_path("demo", "paper")
    return {path.name: path.read_bytes() for path in folder.iterdir()
            if path.name != "paper.json"}


def test_paper_carries_the_profile_and_refuses_unknown_ones() -> None:
    assert Paper.from_source(demo_document(), demo_media()).lockdown == "strict"
    assistive = dict(demo_document(), lockdown="assistive")
    paper = Paper.from_source(assistive, demo_media())
    assert paper.lockdown == "assistive"
    assert Paper.from_source(paper.to_json_dict(), demo_media()).lockdown == "assistive"
    with pytest.raises(UserFacingError):
        Paper.from_source(dict(demo_document(), lockdown="off"), demo_media())


def test_the_signed_header_names_the_profile(tmp_path: Path) -> None:
    with live_server(tmp_path / "server", demo=True, start_in_s=60, duration_s=600) as server:
        assert server.demo is not None
        session = create_session(load_settings([]).with_overrides({
            "server/url": server.url, "server/center_id": server.demo.center_id,
            "data/directory": tmp_path / "client"}))
        try:
            session.login(username=server.demo.username, password=server.demo.password)
            header = session.preload()
            assert header.extra["lockdown"] == "strict"
            assert profile_from_extra(header.extra) is Profile.STRICT
        finally:
            session.close()
