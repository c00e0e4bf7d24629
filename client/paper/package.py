"""The exam package (.exampkg): a paper signed by the server and encrypted with a paper key.

Layout (docs/contracts.md "Paper", docs/formats.md "Paper package")::

    magic  b"EXAMPKG\\x01"                       8 bytes
    hlen   uint32 big-endian                      4 bytes
    header UTF-8 JSON                             hlen bytes
    body   AES-256-GCM(paper_key, nonce, zip(paper.json, media/*), aad = magic+hlen+header)
    sig    Ed25519(server signing key) over everything before it    64 bytes

The package is downloaded before the exam and the paper key is released at the start, so a
candidate PC holds the encrypted paper early ("提前检查试卷") without being able to read it.
The signature is checked before the header is parsed: nothing unauthenticated is trusted.
By default the package carries no answer keys (``include_keys=False``): a candidate's PC
never needs them, and the server scores from the source paper it imported.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import os
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from client.errors import UserFacingError
from client.i18n import _
from client.paper.archive import ArchiveError, read_zip, write_zip
from client.paper.media import is_valid_media_name
from client.paper.model import Paper
from client.paper.source import PAPER_FILE, PaperSource
from client.paper.values import JsonValue

MAGIC = b"EXAMPKG\x01"
FORMAT_VERSION = 1
SIGNATURE_SIZE = 64
NONCE_SIZE = 12
PAPER_KEY_SIZE = 32
GCM_TAG_SIZE = 16
MAX_HEADER_BYTES = 4 * 1024 * 1024  # room for per-candidate verifiers of a whole center
_PREFIX_SIZE = len(MAGIC) + 4
_MEDIA_FOLDER = "media/"
_NO_EXTRA: Mapping[str, object] = MappingProxyType({})


class PackageError(UserFacingError):
    """A package that cannot be used; ``code`` is one of the ``package.*`` codes below."""


def _error(code: str, **detail: object) -> PackageError:
    # Each message tells the candidate or proctor what to do next, not only what failed.
    messages = {
        "package.truncated": _(
            "试卷包不完整（下载可能中断）。请重新下载试卷包；如仍失败，请联系考点管理员。"),
        "package.not_a_package": _(
            "该文件不是考试试卷包。请从考试服务器重新下载试卷包，不要使用其他来源的文件。"),
        "package.signature_invalid": _(
            "试卷包签名校验失败，文件可能已损坏或被篡改。请重新下载试卷包；"
            "如仍失败，请立即联系考点管理员。"),
        "package.wrong_exam": _(
            "该试卷包不属于本场考试。请重新登录后下载本场考试的试卷包；如仍失败，请联系考点管理员。"),
        "package.wrong_key": _(
            "试卷密钥与试卷包不匹配，无法解开试卷。请重新获取试卷密钥；如仍失败，请联系考点管理员。"),
        "package.corrupt": _(
            "试卷包内容有误，无法读取试卷。请联系考点管理员，由考试服务器重新生成试卷包。"),
        "package.unsupported_version": _(
            "本考试客户端无法读取这一版本的试卷包。请联系考点管理员将考试客户端升级到最新版本。"),
    }
    return PackageError(code, messages[code], **detail)


@dataclass(frozen=True)
class PackageHeader:
    """The signed, unencrypted header; readable before the paper key is released."""

    format_version: int
    exam_id: str
    paper_id: str
    created_at_ms: int
    nonce: bytes
    body_sha256: str  # hex SHA-256 of the decrypted zip, checked after decryption
    body_size: int  # bytes of the encrypted body (tells a truncated download from tampering)
    extra: Mapping[str, JsonValue]


def generate_paper_key() -> bytes:
    """A fresh random AES-256 paper key."""
    return AESGCM.generate_key(bit_length=256)


def build_package(*, source: PaperSource, exam_id: str, paper_key: bytes,
                  signing_key: Ed25519PrivateKey, extra_header: Mapping[str, object] = _NO_EXTRA,
                  include_keys: bool = False) -> bytes:
    """Validate *source* and return the package bytes for *exam_id*.

    Raises UserFacingError("paper.invalid") for a bad paper; ValueError/TypeError for a bad
    argument (a key of the wrong size, an exam id that is not text, a non-JSON extra_header).
    """
    if not isinstance(exam_id, str) or not exam_id:
        raise ValueError("exam_id must be a non-empty string")
    if len(paper_key) != PAPER_KEY_SIZE:
        raise ValueError(f"paper_key must be {PAPER_KEY_SIZE} bytes")
    paper = dataclasses.replace(source.load(), exam_id=exam_id)
    if not include_keys:
        paper = paper.without_keys()
    members = {PAPER_FILE: json.dumps(paper.to_json_dict(), ensure_ascii=False,
                                      sort_keys=True).encode("utf-8")}
    members.update({_MEDIA_FOLDER + name: data for name, data in paper.media.items()})
    plain = write_zip(members)
    nonce = os.urandom(NONCE_SIZE)
    header = {
        "format_version": FORMAT_VERSION,
        "exam_id": exam_id,
        "paper_id": paper.paper_id,
        "created_at_ms": int(time.time() * 1000),
        "nonce": base64.b64encode(nonce).decode("ascii"),
        "body_sha256": hashlib.sha256(plain).hexdigest(),
        "body_size": len(plain) + GCM_TAG_SIZE,
        "extra": dict(extra_header),
    }
    header_bytes = json.dumps(header, ensure_ascii=False, sort_keys=True,
                              separators=(",", ":")).encode("utf-8")
    if len(header_bytes) > MAX_HEADER_BYTES:
        raise ValueError(f"package header exceeds {MAX_HEADER_BYTES} bytes")
    prefix = MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes
    signed = prefix + AESGCM(paper_key).encrypt(nonce, plain, prefix)
    return signed + signing_key.sign(signed)


@dataclass(frozen=True)
class _Verified:
    header: PackageHeader
    aad: memoryview
    body: memoryview


def _check_magic(data: bytes) -> None:
    # Constant comparison, not parsing: a future version may place its signature elsewhere,
    # so the version byte must be known before the signature can be checked.
    if len(data) < len(MAGIC):
        raise _error("package.truncated" if MAGIC.startswith(data) else "package.not_a_package",
                     size=len(data))
    if data[: len(MAGIC) - 1] != MAGIC[:-1]:
        raise _error("package.not_a_package", size=len(data))
    if data[len(MAGIC) - 1] != MAGIC[-1]:
        raise _error("package.unsupported_version", version=data[len(MAGIC) - 1])


def _looks_truncated(data: bytes) -> bool:
    """After a failed signature: is the file merely cut short (the common download failure)?

    Reads the unauthenticated lengths only to choose the message ("download again" rather
    than "tampered"); nothing read here is used otherwise.
    """
    (hlen,) = struct.unpack(">I", data[len(MAGIC):_PREFIX_SIZE])
    if hlen > MAX_HEADER_BYTES:
        return False
    if _PREFIX_SIZE + hlen + SIGNATURE_SIZE > len(data):
        return True
    try:
        body_size = json.loads(data[_PREFIX_SIZE:_PREFIX_SIZE + hlen])["body_size"]
    except (ValueError, TypeError, KeyError):
        return False
    return isinstance(body_size, int) and (
        _PREFIX_SIZE + hlen + body_size + SIGNATURE_SIZE > len(data))


def _parse_header(raw: bytes) -> PackageHeader:
    try:
        fields = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _error("package.corrupt", reason="header is not JSON") from exc
    if not isinstance(fields, dict):
        raise _error("package.corrupt", reason="header is not an object")
    version = fields.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise _error("package.unsupported_version", version=version)
    expected_types: dict[str, type] = {
        "exam_id": str, "paper_id": str, "created_at_ms": int, "nonce": str,
        "body_sha256": str, "body_size": int, "extra": dict,
    }
    for name, kind in expected_types.items():
        if not isinstance(fields.get(name), kind) or isinstance(fields.get(name), bool):
            raise _error("package.corrupt", reason=f"header field {name} missing or mistyped")
    try:
        nonce = base64.b64decode(fields["nonce"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _error("package.corrupt", reason="header nonce is not base64") from exc
    if len(nonce) != NONCE_SIZE:
        raise _error("package.corrupt", reason="header nonce has the wrong size")
    return PackageHeader(
        format_version=version,
        exam_id=fields["exam_id"],
        paper_id=fields["paper_id"],
        created_at_ms=fields["created_at_ms"],
        nonce=nonce,
        body_sha256=fields["body_sha256"],
        body_size=fields["body_size"],
        extra=MappingProxyType(fields["extra"]),
    )


def _verify(data: bytes, trusted_key: Ed25519PublicKey, expected_exam_id: str) -> _Verified:
    _check_magic(data)
    if len(data) < _PREFIX_SIZE + 2 + GCM_TAG_SIZE + SIGNATURE_SIZE:
        raise _error("package.truncated", size=len(data))
    view = memoryview(data)
    try:
        trusted_key.verify(data[-SIGNATURE_SIZE:], view[:-SIGNATURE_SIZE])
    except InvalidSignature:
        code = "package.truncated" if _looks_truncated(data) else "package.signature_invalid"
        raise _error(code, size=len(data)) from None
    (hlen,) = struct.unpack(">I", data[len(MAGIC):_PREFIX_SIZE])
    header_end = _PREFIX_SIZE + hlen
    if hlen > MAX_HEADER_BYTES or header_end > len(data) - SIGNATURE_SIZE:
        raise _error("package.corrupt", reason="header length out of range")
    header = _parse_header(data[_PREFIX_SIZE:header_end])
    if header.exam_id != expected_exam_id:
        raise _error("package.wrong_exam", expected=expected_exam_id, found=header.exam_id)
    body = view[header_end:-SIGNATURE_SIZE]
    if len(body) != header.body_size:
        raise _error("package.corrupt", reason="body size differs from the header")
    return _Verified(header, view[:header_end], body)


def verify_package(data: bytes, *, trusted_key: Ed25519PublicKey,
                   expected_exam_id: str) -> PackageHeader:
    """Check signature, format and exam of a package; return its header (no key needed)."""
    return _verify(data, trusted_key, expected_exam_id).header


def _unpack_body(plain: bytes, header: PackageHeader) -> Paper:
    try:
        members = read_zip(plain)
    except ArchiveError as exc:
        raise _error("package.corrupt", reason=exc.reason, member=exc.member) from exc
    media: dict[str, bytes] = {}
    for name, content in members.items():
        if name == PAPER_FILE:
            continue
        if not (name.startswith(_MEDIA_FOLDER)
                and is_valid_media_name(name[len(_MEDIA_FOLDER):])):
            raise _error("package.corrupt", reason="unexpected member", member=name)
        media[name[len(_MEDIA_FOLDER):]] = content
    if PAPER_FILE not in members:
        raise _error("package.corrupt", reason="paper.json missing")
    try:
        document = json.loads(members[PAPER_FILE].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _error("package.corrupt", reason="paper.json is not JSON") from exc
    if not isinstance(document, dict):
        raise _error("package.corrupt", reason="paper.json is not an object")
    try:
        paper = Paper.from_source(document, media)
    except UserFacingError as exc:
        raise _error("package.corrupt", paper_error=exc.message, **exc.detail) from exc
    if paper.paper_id != header.paper_id or paper.exam_id != header.exam_id:
        raise _error("package.corrupt", reason="paper.json disagrees with the header")
    return paper


def open_package(data: bytes, *, trusted_key: Ed25519PublicKey, expected_exam_id: str,
                 paper_key: bytes) -> Paper:
    """Verify, decrypt and parse a package into the Paper it carries."""
    verified = _verify(data, trusted_key, expected_exam_id)
    header = verified.header
    if len(paper_key) != PAPER_KEY_SIZE:
        raise _error("package.wrong_key", reason="paper key has the wrong size")
    try:
        plain = AESGCM(paper_key).decrypt(header.nonce, verified.body, verified.aad)
    except InvalidTag:
        # The signature already proved the body authentic, so only the key can be wrong.
        raise _error("package.wrong_key", exam_id=header.exam_id) from None
    if hashlib.sha256(plain).hexdigest() != header.body_sha256:
        raise _error("package.corrupt", reason="body hash differs from the header")
    return _unpack_body(plain, header)
