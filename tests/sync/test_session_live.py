"""The client's session and HTTP client against the real server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from client.config import load_settings
from client.errors import UserFacingError
from client.session.exam_session import ExamSession, Phase
from client.session.factory import create_session
from client.sync.errors import ServerRefused, ServerUnreachable
from server.papers import _paper_key_context
from server.testing import LiveServer, live_server


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    with live_server(tmp_path / "server", demo=True, start_in_s=600, duration_s=3600) as srv:
        yield srv


def make_session(server: LiveServer, data_dir: Path) -> ExamSession:
    assert server.demo is not None
    settings = load_settings([]).with_overrides({
        "server/url": server.url, "server/center_id": server.demo.center_id,
        "data/directory": data_dir})
    return create_session(settings)


def test_wrong_password_and_not_registered_are_told_apart(server: LiveServer,
                                                          tmp_path: Path) -> None:
    assert server.demo is not None
    session = make_session(server, tmp_path / "c")
    with pytest.raises(ServerRefused) as wrong:
        session.login(username=server.demo.username, password="999999")
    assert wrong.value.code == "wrong_password" and "密码错误" in wrong.value.message
    with pytest.raises(ServerRefused) as unknown:
        session.login(username="1999000000", password="123456")
    assert unknown.value.code == "not_registered"
    assert "没有可参加的考试" in unknown.value.message
    assert session.phase is Phase.LOGGED_OUT


def test_paper_is_preloaded_but_locked_until_the_server_says_start(server: LiveServer,
                                                                   tmp_path: Path) -> None:
    assert server.demo is not None
    session = make_session(server, tmp_path / "c")
    session.login(username=server.demo.username, password=server.demo.password)
    header = session.preload()
    assert header.exam_id == server.demo.exam_id
    until = session.ms_until_start()
    assert until is not None and 590_000 < until <= 600_000
    with pytest.raises(ServerRefused) as refused:
        session.unlock()
    assert refused.value.code == "not_started"
    server.clock.advance(ms=601_000)  # type: ignore[attr-defined]
    paper = session.unlock()
    assert paper.item_count > 5 and session.phase is Phase.RUNNING
    assert not paper.has_keys  # the candidate's PC never holds the answer keys
    session.close()


def test_interrupted_download_resumes_with_range(server: LiveServer, tmp_path: Path) -> None:
    assert server.demo is not None
    session = make_session(server, tmp_path / "c")
    session.login(username=server.demo.username, password=server.demo.password)
    target = session.attempt.package_path
    session.api.download_package(server.demo.exam_id, target)
    full = target.read_bytes()
    # Simulate a cut after 1000 bytes: only the partial file and the ETag are left.
    target.unlink()
    target.with_name(target.name + ".part").write_bytes(full[:1000])
    seen: list[tuple[int, int]] = []
    session.api.download_package(server.demo.exam_id, target,
                                 progress=lambda done, total: seen.append((done, total)))
    assert target.read_bytes() == full
    assert seen[0][0] > 1000 and seen[-1] == (len(full), len(full))
    session.close()


def test_wrong_key_release_is_refused_clearly(server: LiveServer, tmp_path: Path) -> None:
    assert server.demo is not None
    exam = server.db.get_exam(server.demo.exam_id)
    assert exam is not None
    wrong = server.context.keys.seal(os.urandom(32), context=_paper_key_context(exam.id))
    server.db.upsert_exam(dataclasses.replace(exam, paper_key_sealed=wrong))
    server.clock.advance(ms=601_000)  # type: ignore[attr-defined]
    session = make_session(server, tmp_path / "c")
    session.login(username=server.demo.username, password=server.demo.password)
    session.preload()
    with pytest.raises(UserFacingError) as refused:
        session.unlock()
    assert refused.value.code == "package.wrong_key"
    assert session.phase is Phase.WAITING
    session.close()


def test_tampered_package_is_refused_and_set_aside(server: LiveServer, tmp_path: Path) -> None:
    assert server.demo is not None
    exam = server.db.get_exam(server.demo.exam_id)
    assert exam is not None
    path = server.context.settings.packages_dir / exam.package_path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    session = make_session(server, tmp_path / "c")
    session.login(username=server.demo.username, password=server.demo.password)
    with pytest.raises(UserFacingError) as refused:
        session.preload()
    assert refused.value.code == "package.signature_invalid"
    assert not session.attempt.package_path.exists()
    assert session.attempt.package_path.with_suffix(".rejected").exists()
    session.close()


def test_unreachable_server_is_reported_as_offline(tmp_path: Path) -> None:
    settings = load_settings([]).with_overrides({
        "server/url": "http://127.0.0.1:9", "data/directory": tmp_path,
        "server/timeout_seconds": 2.0})
    session = create_session(settings)
    with pytest.raises(ServerUnreachable) as offline:
        session.login(username="2024000001", password="011234")
    assert offline.value.code == "net.offline"
