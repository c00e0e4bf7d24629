"""How long building, verifying and opening exam packages takes.

    python benchmarks/paper.py

Two papers: the demo paper (resources/demo/paper) and a synthetic one with 200 items and
20 MB of media (10 x 1 MB PNG-like, 5 x 2 MB WAV-like, random content so nothing compresses).
The baseline is the bare cryptography of the same bytes in the same run (AES-256-GCM
encrypt + decrypt, Ed25519 sign + verify, one SHA-256): the ratios show what the package
format (zip, JSON, validation) adds on top.
"""

from __future__ import annotations

import hashlib
import os
import random
import statistics
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from client.paper.package import (
    build_package,
    generate_paper_key,
    open_package,
    verify_package,
)
from client.paper.source import PaperSource
from client.resources import resource_path

REPEATS = 3
EXAM = "bench-exam"


def _median_seconds(action: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def synthetic_source(*, items: int = 200) -> PaperSource:
    rng = random.Random(20240901)
    media: dict[str, bytes] = {}
    for index in range(10):
        media[f"figure{index}.png"] = b"\x89PNG\r\n\x1a\n" + rng.randbytes(1024 * 1024 - 8)
    for index in range(5):
        size = 2 * 1024 * 1024
        media[f"audio{index}.wav"] = (b"RIFF" + struct.pack("<I", size - 8) + b"WAVE"
                                      + rng.randbytes(size - 12))
    types = ["single", "multiple", "true_false", "fill_blank", "essay"]
    entries: list[dict[str, Any]] = []
    for number in range(items):
        kind = types[number % len(types)]
        stem = f"<p>第 {number + 1} 题：<b>示例</b>题干 x<sup>2</sup> " + "文字" * 40 + "</p>"
        if number < 10:
            stem += f'<img src="media:figure{number}.png">'
        entry: dict[str, Any] = {"id": f"q{number + 1}", "type": kind, "score": 1,
                                 "stem": {"zh_CN": stem, "en": f"<p>Question {number + 1}</p>"}}
        if kind in ("single", "multiple"):
            entry["options"] = [{"id": o, "text": {"zh_CN": f"选项 {o}", "en": f"Option {o}"}}
                                for o in "ABCD"]
            entry["key"] = "A" if kind == "single" else ["A", "C"]
        elif kind == "true_false":
            entry["key"] = True
        elif kind == "fill_blank":
            entry.update(blanks=2, key=[["甲", "A"], ["乙"]])
        else:
            entry["max_length"] = 500
        if 10 <= number < 15:
            entry["audio"] = {"media": f"audio{number - 10}.wav", "max_plays": 2}
        entries.append(entry)
    document = {
        "paper_id": "synthetic-200",
        "title": {"zh_CN": "性能测试试卷", "en": "Benchmark paper"},
        "duration_minutes": 120,
        "sections": [{"id": f"s{s}", "title": {"zh_CN": f"第 {s + 1} 部分"},
                      "items": entries[s * 50:(s + 1) * 50]} for s in range(4)],
    }
    return PaperSource(document, media)


def _baseline(plain: bytes, key: bytes, signer: Ed25519PrivateKey) -> float:
    def crypto_only() -> None:
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, plain, b"aad")
        signature = signer.sign(sealed)
        signer.public_key().verify(signature, sealed)
        AESGCM(key).decrypt(nonce, sealed, b"aad")
        hashlib.sha256(plain).digest()

    return _median_seconds(crypto_only)


def bench(name: str, source: PaperSource) -> None:
    key, signer = generate_paper_key(), Ed25519PrivateKey.generate()
    public = signer.public_key()
    data = build_package(source=source, exam_id=EXAM, paper_key=key, signing_key=signer)
    media_bytes = sum(len(v) for v in source.load().media.values())

    build = _median_seconds(lambda: build_package(source=source, exam_id=EXAM, paper_key=key,
                                                  signing_key=signer))
    verify = _median_seconds(lambda: verify_package(data, trusted_key=public,
                                                    expected_exam_id=EXAM))
    opened = _median_seconds(lambda: open_package(data, trusted_key=public,
                                                  expected_exam_id=EXAM, paper_key=key))
    baseline = _baseline(data, key, signer)
    print(f"{name}: {source.load().item_count} items, media {media_bytes / 1e6:.1f} MB, "
          f"package {len(data) / 1e6:.2f} MB")
    print(f"  build            {build * 1000:8.1f} ms")
    print(f"  verify           {verify * 1000:8.1f} ms")
    print(f"  verify+open      {opened * 1000:8.1f} ms")
    print(f"  baseline crypto  {baseline * 1000:8.1f} ms  (AES-GCM enc+dec, Ed25519 sign+verify,"
          f" SHA-256 of the package bytes)")
    print(f"  ratio build/baseline {build / baseline:5.2f}   "
          f"verify+open/baseline {opened / baseline:5.2f}")


def main() -> None:
    bench("demo", PaperSource.from_path(resource_path("demo", "paper")))
    bench("synthetic", synthetic_source())


if __name__ == "__main__":
    main()
