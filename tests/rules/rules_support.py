"""Helpers of tests/rules: sessions against the live server, setting an exam's rules."""

from __future__ import annotations

from pathlib import Path

from client.config import load_settings
from client.session.exam_session import ExamSession
from client.session.factory import create_session
from server.papers import refresh_package
from server.testing import LiveServer


def make_session(server: LiveServer, data_dir: Path) -> ExamSession:
    assert server.demo is not None
    settings = load_settings([]).with_overrides({
        "server/url": server.url, "server/center_id": server.demo.center_id,
        "data/directory": data_dir})
    return create_session(settings)


def rebuild_package(server: LiveServer) -> None:
    """What the set-* commands do after changing a rule: sign a new package."""
    assert server.demo is not None
    ctx = server.context
    refresh_package(settings=ctx.settings, db=ctx.db, keys=ctx.keys,
                    exam_id=server.demo.exam_id)
