"""Attack set, client side of the console's actions (extra time, pause, messages): what
a misbehaving or forged server answer can do to the exam PC. Each test is one attack and
passes only when it is stopped.

The answers come from a real HTTP server on 127.0.0.1 that answers the heartbeat with a
crafted body, read by the real ``ExamApi``; the message parts run the real store parser
and the real banner widget (offscreen Qt). benchmarks/console_attacks.py counts them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from client.session import staff_messages
from client.sync.api import ExamApi
from client.sync.clock import ServerClock
from client.sync.errors import ServerUnreachable

NOW_MS = 1_800_000_000_000
END_MS = NOW_MS + 3_600_000


def attack(category: str) -> pytest.MarkDecorator:
    return pytest.mark.attack(category)


class _Crafted:
    body = b"{}"


@pytest.fixture()
def crafted() -> Iterator[tuple[ExamApi, type[_Crafted]]]:
    """A server whose heartbeat answer is whatever the test sets (raw JSON bytes)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(_Crafted.body)))
            self.end_headers()
            self.wfile.write(_Crafted.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api = ExamApi(f"http://127.0.0.1:{server.server_address[1]}", clock=ServerClock())
    api.token = "t"
    try:
        yield api, _Crafted
    finally:
        server.shutdown()
        server.server_close()
        api.session.close()


def _beat(api: ExamApi) -> Any:
    return api.heartbeat(focus_losses=0, pending=0, messages_seen=0)


def _answer(end: str, *, server_time: str = str(NOW_MS), paused: str = "false") -> bytes:
    return (f'{{"server_time_ms": {server_time}, "end_ms": {end}, "paused": {paused}, '
            f'"paused_since_ms": null, "messages": []}}').encode()


def test_a_sane_answer_is_read(crafted: tuple[ExamApi, type[_Crafted]]) -> None:
    """The control: a well-formed answer moves the end (so the refusals below are real)."""
    api, server = crafted
    server.body = _answer(str(END_MS + 600_000))
    assert _beat(api).end_ms == END_MS + 600_000


@attack("client")
@pytest.mark.parametrize("end", ["Infinity", "-Infinity", "NaN", "1e400",
                                 "100000000000000000000000000000", "-5", "0", "true",
                                 '"1800000000000abc"', "1800003600000.5", "[1]"])
def test_absurd_end_from_the_server_is_not_adopted(
        crafted: tuple[ExamApi, type[_Crafted]], end: str) -> None:
    """A misbehaving server's end (infinite, beyond any clock, negative, not an integer)
    is an unreadable answer, never a crash of the heartbeat thread nor a new end."""
    api, server = crafted
    server.body = _answer(end)
    with pytest.raises(ServerUnreachable):
        _beat(api)


@attack("client")
def test_end_weeks_after_the_server_clock_is_not_adopted(
        crafted: tuple[ExamApi, type[_Crafted]]) -> None:
    """An end a month after the server's own clock is no exam's end: refused."""
    api, server = crafted
    server.body = _answer(str(NOW_MS + 31 * 24 * 3_600_000))
    with pytest.raises(ServerUnreachable):
        _beat(api)


@attack("client")
@pytest.mark.parametrize("server_time", ["Infinity", "-1", "1e400"])
def test_absurd_server_time_is_not_read(crafted: tuple[ExamApi, type[_Crafted]],
                                        server_time: str) -> None:
    api, server = crafted
    server.body = _answer(str(END_MS), server_time=server_time)
    with pytest.raises(ServerUnreachable):
        _beat(api)


@attack("client")
@pytest.mark.parametrize("at_ms", [10 ** 30, -10 ** 30, 2 ** 63])
def test_message_with_absurd_time_is_dropped(at_ms: int) -> None:
    """A message stamped beyond any calendar would crash the banner's clock text."""
    assert staff_messages.parse({"id": 1, "text": "x", "from": "y", "at_ms": at_ms}) is None


@attack("client")
def test_message_control_and_bidi_characters_are_removed() -> None:
    """RTL overrides and control characters could disguise the text the candidate reads
    (or the sender): they are dropped; line breaks stay."""
    raw = {"id": 1, "text": "交卷\u202e时间延长\u0000\u001b\n第二行\u2066x\u2069",
           "from": "监考\u202e师", "at_ms": NOW_MS}
    message = staff_messages.parse(raw)
    assert message is not None
    assert message.text == "交卷时间延长\n第二行x"
    assert message.sender == "监考师"


@attack("client")
def test_many_messages_are_capped_in_memory() -> None:
    """A server flooding messages: the PC keeps a bounded list (the newest)."""
    known: list[staff_messages.StaffMessage] = []
    for start in range(0, 5_000, 500):
        fresh = staff_messages.new_messages(known, [
            {"id": i + 1, "text": "x" * 2_000, "from": "s", "at_ms": NOW_MS}
            for i in range(start, start + 500)])
        known = staff_messages.keep_newest([*known, *fresh])
    assert len(known) <= staff_messages.KEEP_MAX
    assert known[-1].id == 5_000
    assert all(len(m.text) <= staff_messages.TEXT_MAX for m in known)


@attack("client")
def test_markup_in_the_sender_is_shown_as_text(qtbot: Any) -> None:
    """The banner's title carries the sender's name: markup there is text, not rich text
    (an <img> or a huge <font> on the exam page)."""
    from PySide6.QtCore import Qt

    from client.ui.message_banner import MessageBanner

    message = staff_messages.StaffMessage(id=1, text="t", sender="<b>王</b><img src='x'>",
                                          at_ms=NOW_MS)
    banner = MessageBanner(messages=lambda: [message])
    qtbot.addWidget(banner)
    banner.show_new([message])
    for label in (banner.title, banner.text, banner.history):
        assert label.textFormat() == Qt.TextFormat.PlainText
    assert "<b>王</b>" in banner.title.text()


def test_json_dump_of_the_crafted_answer_is_valid() -> None:
    """The crafted bodies above are what a server could really send (Python's json reads
    Infinity/NaN, as requests does)."""
    assert json.loads(_answer("Infinity"))["end_ms"] == float("inf")
