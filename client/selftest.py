"""``exam-client --self-test``: load every subsystem for real and say which one broke.

Run by tools/build_frozen.py on the frozen build in CI (headless, QT_QPA_PLATFORM=
offscreen) and by support on a PC that will not start. Each check exercises the native
code the frozen build must carry — SQLCipher, OpenSSL via cryptography, the paper
package format, OpenCV + MediaPipe with the shipped models, the integrity collectors,
PortAudio, fonts, translations — in a scratch folder, and returns what it did. A check
that raises is one failed line; the others still run.

Qt-free: the window check is a callable the UI layer hands in
(client/ui/selftest_window.py), so this module runs where Qt cannot.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from client.i18n import _, load_catalog
from client.resources import resource_path

log = logging.getLogger(__name__)

Check = Callable[[Path], str]  # gets a scratch folder, returns what it did, raises on failure


class SelfTestFailure(Exception):
    """A check found the subsystem loaded but wrong (as opposed to crashing)."""


@dataclass(frozen=True)
class SelfTestLine:
    name: str
    ok: bool
    message: str
    seconds: float

    def format(self) -> str:
        verdict = _("正常") if self.ok else _("失败")
        return f"[{verdict}] {self.name}: {self.message} ({self.seconds:.2f} s)"


def check_crypto(scratch: Path) -> str:
    """Ed25519, X25519, AES-256-GCM (OpenSSL through cryptography) and Argon2id."""
    from argon2.low_level import Type, hash_secret_raw
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    signing = Ed25519PrivateKey.generate()
    signature = signing.sign(b"self-test")
    signing.public_key().verify(signature, b"self-test")  # raises InvalidSignature
    ours, theirs = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    if ours.exchange(theirs.public_key()) != theirs.exchange(ours.public_key()):
        raise SelfTestFailure("X25519 shared secrets differ")
    key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, b"answers", b"aad")
    if AESGCM(key).decrypt(nonce, sealed, b"aad") != b"answers":
        raise SelfTestFailure("AES-GCM round trip changed the data")
    derived = hash_secret_raw(b"password", b"salt-self-test", time_cost=1, memory_cost=8192,
                              parallelism=1, hash_len=32, type=Type.ID)
    if len(derived) != 32:
        raise SelfTestFailure("Argon2id returned a short key")
    return _("Ed25519 签名验证、X25519、AES-256-GCM、Argon2id 正常")


def check_store(scratch: Path) -> str:
    """Create an encrypted answer store, save an answer, reopen it and read the answer back."""
    from client.store.database import AnswerStore

    path = scratch / "selftest-answers.db"
    key = os.urandom(32)
    store = AnswerStore.open(path, key=key, snapshot_policy=None)
    try:
        store.save(question_id="q1", value=["A", "C"], server_time_ms=None)
    finally:
        store.close()
    if path.read_bytes()[:16] == b"SQLite format 3\x00":
        raise SelfTestFailure("the answer store was written unencrypted")
    reopened = AnswerStore.open(path, key=key, create=False, snapshot_policy=None)
    try:
        answers = reopened.current_answers()
    finally:
        reopened.close()
    if answers.get("q1") is None or answers["q1"].value != ["A", "C"]:
        raise SelfTestFailure(f"answer not read back: {answers!r}")
    return _("加密答案库（SQLCipher）写入、关闭、重新打开并读回答案")


def check_paper(scratch: Path) -> str:
    """Build the demo paper package with a throwaway key, then verify, decrypt and parse it."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from client.paper.package import build_package, generate_paper_key, open_package
    from client.paper.source import PaperSource

    source = PaperSource.from_path(resource_path("demo", "paper"))
    signing_key = Ed25519PrivateKey.generate()
    paper_key = generate_paper_key()
    data = build_package(source=source, exam_id="self-test", paper_key=paper_key,
                         signing_key=signing_key)
    paper = open_package(data, trusted_key=signing_key.public_key(),
                         expected_exam_id="self-test", paper_key=paper_key)
    if paper.item_count == 0:
        raise SelfTestFailure("the demo paper has no items")
    return _("演示试卷打包（签名+加密）后验证、解密并解析：{items} 题，{media} 个媒体文件").format(
        items=paper.item_count, media=len(paper.media))


def check_models(scratch: Path) -> str:
    """Load YuNet, SFace and the MediaPipe face landmarker and run each once."""
    import numpy as np

    from client.camera.analyzer import DetectedFace, FaceAnalyzer

    # A test pattern: no face is expected, but every network runs a real inference.
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, :, 0] = np.linspace(0, 255, 640, dtype=np.uint8)
    frame[:, :, 1] = 128
    frame[:, :, 2] = np.linspace(255, 0, 480, dtype=np.uint8)[:, None]
    with FaceAnalyzer(landmarks=True, video_mode=False) as analyzer:
        analysis = analyzer.analyze(frame, t_ms=0)
        # YuNet's row layout (box, right eye, left eye, nose, mouth corners, score),
        # placed where a face would be, so SFace aligns and embeds a real crop.
        box = DetectedFace(x=220.0, y=140.0, width=200.0, height=200.0, score=1.0,
                           raw=(220.0, 140.0, 200.0, 200.0, 280.0, 210.0, 360.0, 210.0,
                                320.0, 250.0, 290.0, 300.0, 350.0, 300.0, 1.0))
        embedding = analyzer.embed(frame, box)
    if embedding.size == 0:
        raise SelfTestFailure("SFace returned an empty feature")
    return _("YuNet、SFace（特征 {dims} 维）、人脸关键点模型已加载并各运行一次（测试图中"
             "人脸 {faces} 个）").format(dims=embedding.size, faces=len(analysis.faces))


def check_detectors(scratch: Path) -> str:
    """Take one integrity snapshot of this machine and evaluate it with the built-in rules."""
    from client.integrity.collector import platform_collector
    from client.integrity.evaluate import evaluate
    from client.integrity.rules import builtin_rules

    rules = builtin_rules()  # verifies the shipped rules' signature
    snapshot = platform_collector(rules=rules).snapshot()
    findings = evaluate(snapshot, rules)
    return _("远程控制/虚拟设备检测：规则版本 {version}，{processes} 个进程，发现 {findings} 项"
             ).format(version=rules.version, processes=len(snapshot.processes),
                      findings=len(findings))


def check_audio(scratch: Path) -> str:
    """Load PortAudio (sounddevice) and list the sound devices; none is fine on a server."""
    import sounddevice

    devices = sounddevice.query_devices()
    return _("{version} 已加载，{count} 个音频设备").format(
        version=sounddevice.get_portaudio_version()[1], count=len(devices))


def check_fonts(scratch: Path) -> str:
    """The bundled CJK font is there and is an OpenType/TrueType file."""
    fonts = sorted(p for p in resource_path("fonts").glob("*") if p.suffix.lower()
                   in {".otf", ".ttf", ".ttc"})
    if not fonts:
        raise SelfTestFailure(f"no font in {resource_path('fonts')}")
    for font in fonts:
        magic = font.read_bytes()[:4]
        if magic not in (b"OTTO", b"\x00\x01\x00\x00", b"ttcf", b"true"):
            raise SelfTestFailure(f"{font.name} is not a font file (starts with {magic!r})")
    return _("字体：{names}").format(names=", ".join(f.name for f in fonts))


def check_translations(scratch: Path) -> str:
    """Every English catalog parses, and together they translate something."""
    folder = resource_path("i18n", "en")
    files = sorted(folder.glob("*.json"))
    for path in files:
        entries = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entries, dict):
            raise SelfTestFailure(f"{path.name} is not a JSON object")
    catalog = load_catalog("en", directory=folder)
    if not catalog:
        raise SelfTestFailure(f"no English translation in {folder}")
    return _("英文翻译：{files} 个文件，{entries} 条").format(files=len(files),
                                                           entries=len(catalog))


def check_versions(scratch: Path) -> str:
    """Every component reports its version: the bundle carries their package metadata, so
    diagnostics zips from the frozen build say what runs (they said null before)."""
    from client.diagnostics.bundle import system_facts

    versions = system_facts()["versions"]
    unknown = sorted(name for name, version in versions.items() if version is None)
    if unknown:
        raise SelfTestFailure(f"no version (package metadata missing) for {', '.join(unknown)}")
    shown = ", ".join(f"{name} {version}" for name, version in versions.items()
                      if name not in ("exam-client", "python"))
    return _("组件版本：{versions}").format(versions=shown)


# Characters outside the shipped font render as its empty-box glyph: this private-use
# code point is never in it, so its mask is what "missing" looks like.
_MISSING_GLYPH = "\ue000"


def check_watermark(scratch: Path) -> str:
    """Evidence and room photos get their Chinese watermark from Pillow and the shipped
    font, not the ASCII fallback (the frozen build once left Pillow out)."""
    import numpy as np
    from PIL import ImageFont

    from client.camera.watermark import WatermarkInfo, load_font, watermark

    fonts = sorted(p for p in resource_path("fonts").glob("*") if p.suffix.lower()
                   in {".otf", ".ttf", ".ttc"})
    if not fonts:
        raise SelfTestFailure(f"no font in {resource_path('fonts')}")
    info = WatermarkInfo(exam_time="2026-06-01 09:00-11:00", center_id="C001",
                         center_name="自检考点", room="第01考场", candidate_id="S0001",
                         taken_at="09:30:00")
    image = np.full((480, 640, 3), 128, dtype=np.uint8)
    marked, chinese_drawn = watermark(image, info, font_path=fonts[0])
    if not chinese_drawn:
        raise SelfTestFailure("the Chinese watermark was not drawn (Pillow or the font failed)")
    if not (marked != image).any():
        raise SelfTestFailure("the watermark left the photo unchanged")
    font = load_font(ImageFont, fonts[0], 24)
    missing_mask = bytes(font.getmask(_MISSING_GLYPH))
    text = "".join(info.lines())
    missing = sorted({ch for ch in text if ord(ch) > 0x7F
                      and bytes(font.getmask(ch)) == missing_mask})
    if missing:
        raise SelfTestFailure(f"{fonts[0].name} has no glyph for {''.join(missing)}")
    return _("水印照片：中文水印已用 {font} 绘制").format(font=fonts[0].name)


CHECKS: tuple[tuple[str, Check], ...] = (
    ("crypto", check_crypto),
    ("store", check_store),
    ("paper", check_paper),
    ("models", check_models),
    ("detectors", check_detectors),
    ("audio", check_audio),
    ("fonts", check_fonts),
    ("translations", check_translations),
    ("versions", check_versions),
    ("watermark", check_watermark),
)


def run_checks(checks: Sequence[tuple[str, Check]], *, scratch: Path,
               window_check: Callable[[], str] | None = None) -> list[SelfTestLine]:
    lines: list[SelfTestLine] = []
    named: list[tuple[str, Check]] = list(checks)
    if window_check is not None:
        named.append(("window", lambda _scratch: window_check()))
    for name, check in named:
        started = time.perf_counter()
        try:
            message, ok = check(scratch), True
        except Exception as exc:  # one broken subsystem must not hide the others
            log.debug("self-test %s failed:\n%s", name, traceback.format_exc())
            message, ok = f"{type(exc).__name__}: {exc}", False
        lines.append(SelfTestLine(name, ok, message, time.perf_counter() - started))
    return lines


def run_self_test(*, window_check: Callable[[], str] | None = None,
                  stream: TextIO | None = None) -> int:
    """Run every check, print one line each and a verdict; 0 if all passed, else 1."""
    out = stream if stream is not None else sys.stdout
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="exam-selftest-") as scratch:
        lines = run_checks(CHECKS, scratch=Path(scratch), window_check=window_check)
        for line in lines:
            print(line.format(), file=out, flush=True)
    failed = [line.name for line in lines if not line.ok]
    total = time.perf_counter() - started
    if failed:
        print(_("自检失败：{names}（{seconds:.1f} 秒）").format(names=", ".join(failed),
                                                             seconds=total), file=out)
        return 1
    print(_("自检通过：{count} 项（{seconds:.1f} 秒）").format(count=len(lines), seconds=total),
          file=out)
    return 0
