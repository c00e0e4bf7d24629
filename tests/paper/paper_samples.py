"""Small real media files and a paper document with every question type, for the tests."""

from __future__ import annotations

import copy
import io
import struct
import wave
import zlib
from typing import Any


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A real (decodable) grey PNG built with the stdlib."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def tiny_wav(frames: int = 1600) -> bytes:
    """A real 16 kHz mono 16-bit WAV of silence."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x00" * frames)
    return buffer.getvalue()


def _text(zh: str, en: str | None = None) -> dict[str, str]:
    return {"zh_CN": zh, "en": en} if en is not None else {"zh_CN": zh}


_DOCUMENT: dict[str, Any] = {
    "format_version": 1,
    "paper_id": "sample-1",
    "title": _text("样例试卷", "Sample paper"),
    "duration_minutes": 45,
    "sections": [
        {
            "id": "s1",
            "title": _text("一、选择题", "Part I"),
            "items": [
                {"id": "q1", "type": "single", "score": 2, "key": "B",
                 "stem": _text("水的化学式是 <b>什么</b>？", "What is the formula of water?"),
                 "options": [{"id": "A", "text": _text("CO<sub>2</sub>")},
                             {"id": "B", "text": _text("H<sub>2</sub>O")},
                             {"id": "C", "text": _text("O<sub>2</sub>")}]},
                {"id": "q2", "type": "multiple", "score": 3, "key": ["D", "A"],
                 "stem": _text('看图选择：<img src="media:fig.png" alt="图">'),
                 "options": [{"id": "A", "text": _text("甲")}, {"id": "B", "text": _text("乙")},
                             {"id": "C", "text": _text("丙")}, {"id": "D", "text": _text("丁")}]},
                {"id": "q3", "type": "single", "score": 2, "key": "A",
                 "audio": {"media": "clip.wav", "max_plays": 2},
                 "stem": _text("听录音选择。"),
                 "options": [{"id": "A", "text": _text("九点")},
                             {"id": "B", "text": _text("十点")}]},
            ],
        },
        {
            "id": "s2",
            "title": _text("二、判断与填空"),
            "items": [
                {"id": "q4", "type": "true_false", "score": 1, "key": True,
                 "stem": _text("地球绕太阳转。")},
                {"id": "q5", "type": "fill_blank", "score": 4, "blanks": 2,
                 "key": [["北京", "Beijing"], ["上海"]], "max_length": 20,
                 "stem": _text("首都是____，最大城市是____。")},
                {"id": "q6", "type": "essay", "score": 10, "max_length": 50,
                 "stem": _text("谈谈诚信考试。")},
            ],
        },
    ],
}


def sample_document() -> dict[str, Any]:
    """A fresh deep copy each time, so a test may break it freely."""
    return copy.deepcopy(_DOCUMENT)


def sample_media() -> dict[str, bytes]:
    return {"fig.png": tiny_png(), "clip.wav": tiny_wav()}
