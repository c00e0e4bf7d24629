"""Shared test data and helpers for tests/server (a unique module name, imported by tests)."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import requests

from server.testing import LiveServer

# The known answers below score 2 + 3 + 0 + 2 = 7 of the 10 objective points.
KNOWN_ANSWERS = {
    "q1": "B",  # single, key B: 2 points
    "q2": ["A", "C"],  # multiple, key [A, C]: 3 points
    "q3": False,  # true_false, key true: 0 of 1
    # fill_blank: first blank right (full-width letters match after NFKC), second wrong: 2 of 4
    "q4": ["ＢＥＩＪＩＮＧ ", "3"],
    "q5": "我的作文",  # essay, not machine-scored
}
KNOWN_SCORE = 7.0
MAX_OBJECTIVE = 10.0


def _png() -> bytes:
    """A valid 1x1 PNG (white pixel)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(
        b"IEND", b""
    )


def _text(zh: str, en: str) -> dict[str, str]:
    return {"zh_CN": zh, "en": en}


PAPER = {
    "format_version": 1,
    "paper_id": "server-test-paper",
    "title": _text("服务器测试试卷", "Server test paper"),
    "duration_minutes": 60,
    "sections": [
        {
            "id": "s1",
            "title": _text("客观题", "Objective"),
            "items": [
                {
                    "id": "q1",
                    "type": "single",
                    "stem": _text('看图选择<img src="media:figure1.png">', "Pick"),
                    "options": [
                        {"id": "A", "text": _text("甲", "A")},
                        {"id": "B", "text": _text("乙", "B")},
                    ],
                    "key": "B",
                    "score": 2,
                },
                {
                    "id": "q2",
                    "type": "multiple",
                    "stem": _text("多选", "Multiple"),
                    "options": [
                        {"id": "A", "text": _text("一", "1")},
                        {"id": "B", "text": _text("二", "2")},
                        {"id": "C", "text": _text("三", "3")},
                    ],
                    "key": ["A", "C"],
                    "score": 3,
                },
                {
                    "id": "q3",
                    "type": "true_false",
                    "stem": _text("地球是圆的", "The earth is round"),
                    "key": True,
                    "score": 1,
                },
                {
                    "id": "q4",
                    "type": "fill_blank",
                    "stem": _text("首都____，一加一等于____", "Capital ___, 1+1=___"),
                    "blanks": 2,
                    "key": [["北京", "Beijing"], ["2", "二"]],
                    "score": 4,
                },
            ],
        },
        {
            "id": "s2",
            "title": _text("主观题", "Essay"),
            "items": [
                {
                    "id": "q5",
                    "type": "essay",
                    "stem": _text("写一段话", "Write"),
                    "max_length": 500,
                    "score": 10,
                }
            ],
        },
    ],
}


def write_paper_source(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "paper.json").write_text(json.dumps(PAPER, ensure_ascii=False), "utf-8")
    (directory / "figure1.png").write_bytes(_png())
    return directory


class Api:
    """Real HTTP calls to a live server (requests), with the demo credentials at hand."""

    def __init__(self, server: LiveServer) -> None:
        assert server.demo is not None
        self.server = server
        self.demo = server.demo
        self.session = requests.Session()

    def login(self, username: str | None = None, password: str | None = None,
              **extra: str) -> requests.Response:
        return self.session.post(
            self.server.api("/login"),
            json={
                "username": username if username is not None else self.demo.username,
                "password": password if password is not None else self.demo.password,
                "center_id": self.demo.center_id,
                "client_id": "test-pc-01",
                **extra,
            },
            timeout=10,
        )

    def token(self, username: str | None = None, password: str | None = None) -> str:
        response = self.login(username, password)
        assert response.status_code == 200, response.text
        value: str = response.json()["token"]
        return value

    def get(self, path: str, *, token: str | None = None,
            headers: dict[str, str] | None = None) -> requests.Response:
        return self.session.get(self.server.api(path), headers=_headers(token, headers),
                                timeout=10)

    def post(self, path: str, body: object, *, token: str | None = None) -> requests.Response:
        return self.session.post(self.server.api(path), json=body,
                                 headers=_headers(token, None), timeout=10)


def _headers(token: str | None, extra: dict[str, str] | None) -> dict[str, str]:
    headers = dict(extra or {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers
