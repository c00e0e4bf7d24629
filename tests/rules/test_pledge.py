"""Exam pledge: the text comes in the signed package; the candidate accepts it before the
waiting room; the acceptance and its time are stored (encrypted store) and synced; an exam
can require it or not."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from rules_support import make_session, rebuild_package

from client.paper.exam_rules import Pledge, pledge_from_extra
from client.session.pledge import META_PLEDGE, PledgeGate, pledge_gate_for
from server import cli as server_cli
from server.pledges import acceptances, missing_acceptances, pledge_for, set_pledge
from server.testing import LiveServer

PLEDGE = Pledge(text_zh="本人承诺：遵守考试纪律，独立完成考试，不携带通讯工具。",
                text_en="I pledge to follow the exam rules and work on my own.", required=True)


def _set(server: LiveServer, pledge: Pledge) -> None:
    assert server.demo is not None
    set_pledge(server.db, exam_id=server.demo.exam_id, pledge=pledge,
               now_ms=server.clock.now_ms())
    rebuild_package(server)


def _attempt_id(server: LiveServer) -> int:
    assert server.demo is not None
    candidate = server.db.find_candidate(student_no=server.demo.username)
    assert candidate is not None
    attempt = server.db.find_attempt(exam_id=server.demo.exam_id, candidate_id=candidate.id)
    assert attempt is not None
    return attempt.id


def test_required_pledge_is_shown_recorded_with_its_time_and_synced(server: LiveServer,
                                                                    tmp_path: Path) -> None:
    assert server.demo is not None
    _set(server, PLEDGE)
    session = make_session(server, tmp_path / "pc")
    session.login(username=server.demo.username, password=server.demo.password)
    header = session.preload()
    assert pledge_from_extra(header.extra) == PLEDGE  # signed, from the package
    gate = pledge_gate_for(session, header.extra)
    assert gate.must_show() and gate.must_accept()
    attempt = _attempt_id(server)
    assert missing_acceptances(server.db, exam_id=server.demo.exam_id,
                               attempt_ids=[attempt]) == [attempt]
    before = server.clock.now_ms()
    acceptance = gate.accept(language="zh_CN")
    assert acceptance.synced and not gate.must_show()
    stored = session.run_on_store(lambda store: store.get_meta(META_PLEDGE)).result()
    assert stored is not None and '"synced": true' in stored
    on_server = acceptances(server.db, [attempt])[attempt]
    assert before - 1000 <= on_server.accepted_at_ms <= server.clock.now_ms()
    assert missing_acceptances(server.db, exam_id=server.demo.exam_id,
                               attempt_ids=[attempt]) == []
    session.close()
    # After a restart on the same PC the candidate is not asked again.
    again = make_session(server, tmp_path / "pc")
    again.login(username=server.demo.username, password=server.demo.password)
    assert not pledge_gate_for(again, again.preload().extra).must_show()
    again.close()


def test_acceptance_made_offline_waits_in_the_store_and_is_synced_later(
        server: LiveServer, tmp_path: Path) -> None:
    assert server.demo is not None
    _set(server, PLEDGE)
    session = make_session(server, tmp_path / "pc")
    session.login(username=server.demo.username, password=server.demo.password)
    header = session.preload()
    online = pledge_gate_for(session, header.extra)
    calls: list[str] = []

    def no_network(path: str, body: object, /) -> object:
        calls.append(path)
        raise requests.ConnectionError("cable pulled")

    offline = PledgeGate(extra=header.extra, run_on_store=session.run_on_store,
                         post_json=no_network, now_ms=session.clock.now_ms,
                         wall_ms=lambda: 0)
    acceptance = offline.accept(language="en")
    assert calls == ["/attempt/pledge"] and not acceptance.synced
    assert not offline.must_show()  # accepted on this PC: the candidate goes on
    attempt = _attempt_id(server)
    assert acceptances(server.db, [attempt]) == {}
    assert online.sync()  # the network is back
    assert acceptances(server.db, [attempt])[attempt].language == "en"
    assert online.accepted() is not None and online.accepted().synced  # type: ignore[union-attr]
    session.close()


def test_exam_without_pledge_or_with_an_optional_one(server: LiveServer,
                                                    tmp_path: Path) -> None:
    assert server.demo is not None
    session = make_session(server, tmp_path / "pc")
    session.login(username=server.demo.username, password=server.demo.password)
    assert not pledge_gate_for(session, session.preload().extra).must_show()
    session.close()
    _set(server, Pledge(text_zh="自愿签署的承诺。", required=False))
    session = make_session(server, tmp_path / "pc2")
    session.login(username=server.demo.username, password=server.demo.password)
    gate = pledge_gate_for(session, session.preload().extra)
    assert gate.must_show() and not gate.must_accept()
    assert missing_acceptances(server.db, exam_id=server.demo.exam_id,
                               attempt_ids=[_attempt_id(server)]) == []
    session.close()


def test_server_refuses_an_acceptance_of_another_text(server: LiveServer,
                                                      tmp_path: Path) -> None:
    assert server.demo is not None
    _set(server, PLEDGE)
    session = make_session(server, tmp_path / "pc")
    session.login(username=server.demo.username, password=server.demo.password)
    header = session.preload()
    _set(server, Pledge(text_zh="新的承诺书文本。"))  # changed after the PC downloaded
    stale = pledge_gate_for(session, header.extra)
    accepted = stale.accept(language="zh_CN")
    assert not accepted.synced
    assert acceptances(server.db, [_attempt_id(server)]) == {}
    session.close()


def test_cli_sets_text_from_files(server: LiveServer, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert server.demo is not None
    zh = tmp_path / "zh.txt"
    zh.write_text("本人承诺诚信考试。\n", encoding="utf-8")
    en = tmp_path / "en.txt"
    en.write_text("I will sit the exam honestly.", encoding="utf-8")
    args = ["set-pledge", "--data", str(server.data_dir), server.demo.exam_id]
    assert server_cli.main([*args, "--zh", str(zh), "--en", str(en), "--optional"]) == 0
    assert pledge_for(server.db, server.demo.exam_id) == Pledge(
        "本人承诺诚信考试。", "I will sit the exam honestly.", required=False)
    (tmp_path / "empty.txt").write_text(" ", encoding="utf-8")
    assert server_cli.main([*args, "--zh", str(tmp_path / "empty.txt")]) == 1
    assert "不能为空" in capsys.readouterr().out
