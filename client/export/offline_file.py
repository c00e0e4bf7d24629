"""The offline answer file (离线答卷, ``.examans``): build on the client, verify and open on
the server. docs/formats.md, section "Offline answer file", is the specification; this
module is its only implementation, shared by both sides.

Layout (all integers big-endian)::

    prefix   56 bytes  magic b"EXAMANSW" | version u16 | flags u16 (0) | total_length u64
                       | session_public_key 32 (raw Ed25519) | header_length u32
    header   UTF-8 JSON, sorted keys (identity, file name, times, counts; no answers)
    sealed   RFC 9180 HPKE base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM,
             to the server's box key; info = INFO_LABEL + SHA-256(prefix + header);
             plaintext = zlib(JSON payload: every revision, submission, marks, proctor log,
             client)
    sig      64 bytes  Ed25519(session key) over SIGNATURE_CONTEXT + everything before it

Only the server's box private key opens ``sealed`` (not the proctor, not the admin's PC);
the signature by the per-session key, registered with the server at login, tells the
server which client session made the file; the header names the file, so a renamed
copy is refused; ``total_length`` tells a truncated file from a tampered one.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from client.errors import UserFacingError
from client.i18n import _
from client.proctor.proctor_log import ProctorEvent
from client.store.model import JsonValue, Revision

FORMAT_NAME = "exam-offline-answers"
FORMAT_VERSION = 1
MAGIC = b"EXAMANSW"
PREFIX = struct.Struct(">8sHHQ32sI")
SIGNATURE_LENGTH = 64
SIGNATURE_CONTEXT = b"exam-offline-answers/1 signature\x00"
INFO_LABEL = b"exam-offline-answers/1 payload\x00"
SUITE_NAME = "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM"
_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)
# A payload of 200 items x hundreds of revisions is a few MB; the cap stops a zip bomb
# from a (signed, so registered, but possibly compromised) client from eating the server.
MAX_PAYLOAD_BYTES = 256 * 1024 * 1024

SubmissionStateName = Literal["answering", "submitted", "auto_submitted"]
_SUBMISSION_STATES = ("answering", "submitted", "auto_submitted")


class OfflineFileError(UserFacingError):
    """Codes: offline.not_a_file, offline.truncated, offline.unsupported_version,
    offline.corrupt, offline.signature_invalid, offline.renamed, offline.wrong_server_key,
    offline.count_mismatch (the server adds its own codes on top)."""


@dataclass(frozen=True)
class SubmissionInfo:
    state: SubmissionStateName
    submitted_server_ms: int | None = None
    submitted_wall_ms: int | None = None


@dataclass(frozen=True)
class FileIdentity:
    """Who and what the file is for; signed, readable without the server key."""

    exam_id: str
    candidate_id: str
    candidate_no: str
    client_id: str
    package_sha256: str
    paper_id: str = ""


@dataclass(frozen=True)
class Marks:
    """The questions the candidate marked for review (标记) on this PC, and the PC's
    server-time estimate when they last changed there (None: never changed on this PC with
    a server time, e.g. seeded from the server, or a PC that never reached it)."""

    question_ids: tuple[str, ...]
    changed_server_ms: int | None = None


@dataclass(frozen=True)
class OfflinePayload:
    """The encrypted part: everything the server merges and the admin may want to read."""

    revisions: tuple[Revision, ...]
    submission: SubmissionInfo
    proctor_log: tuple[ProctorEvent, ...]
    client_info: Mapping[str, str]
    # None: the PC had no marks to tell (or a file from a client before marks travelled).
    marks: Marks | None = None

    def question_count(self) -> int:
        return len({r.question_id for r in self.revisions})


@dataclass(frozen=True)
class OfflineFileHeader:
    identity: FileIdentity
    file_name: str
    session_key_id: str
    server_key_id: str
    created_wall_ms: int
    created_server_ms: int | None
    export_seq: int
    revision_count: int
    question_count: int
    proctor_event_count: int
    key_certificate: str = ""


@dataclass(frozen=True)
class Envelope:
    """A structurally sound file whose signature has not been checked yet."""

    version: int
    session_public_key: bytes
    header_bytes: bytes
    signed_part: bytes
    sealed: bytes
    signature: bytes

    @property
    def session_key_id(self) -> str:
        return key_id(self.session_public_key)


def key_id(raw_public_key: bytes) -> str:
    """Short stable name of a public key (first 16 bytes of its SHA-256, hex)."""
    return hashlib.sha256(raw_public_key).hexdigest()[:32]


def raw_public_bytes(key: Ed25519PublicKey | X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _error(code: str, message: str, **detail: object) -> OfflineFileError:
    return OfflineFileError(code, message, **detail)


def _corrupt(reason: str) -> OfflineFileError:
    return _error("offline.corrupt", _("离线答卷文件已损坏，无法读取"), reason=reason)


# -- writing ---------------------------------------------------------------------------

def build_offline_file(
    *,
    identity: FileIdentity,
    payload: OfflinePayload,
    file_name: str,
    created_wall_ms: int,
    created_server_ms: int | None,
    export_seq: int,
    session_key: Ed25519PrivateKey,
    server_box_key: X25519PublicKey,
    key_certificate: str = "",
) -> bytes:
    session_public = raw_public_bytes(session_key.public_key())
    header: dict[str, object] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "exam_id": identity.exam_id,
        "paper_id": identity.paper_id,
        "candidate_id": identity.candidate_id,
        "candidate_no": identity.candidate_no,
        "client_id": identity.client_id,
        "package_sha256": identity.package_sha256,
        "file_name": file_name,
        "session_key_id": key_id(session_public),
        "server_key_id": key_id(raw_public_bytes(server_box_key)),
        "suite": SUITE_NAME,
        "compression": "zlib",
        "created_wall_ms": created_wall_ms,
        "created_server_ms": created_server_ms,
        "export_seq": export_seq,
        "counts": _counts(payload),
    }
    if key_certificate:
        # A PC that never registered its key (client/export/key_certificate.py).
        header["key_certificate"] = key_certificate
    header_bytes = _canonical_json(header)
    plaintext = zlib.compress(_canonical_json(_payload_to_json(payload)), 6)
    # total_length needs the sealed size: HPKE adds enc (32) + GCM tag (16) bytes.
    sealed_length = len(plaintext) + KEM.X25519.enc_length() + 16
    total = PREFIX.size + len(header_bytes) + sealed_length + SIGNATURE_LENGTH
    prefix = PREFIX.pack(MAGIC, FORMAT_VERSION, 0, total, session_public, len(header_bytes))
    sealed = _SUITE.encrypt(plaintext, server_box_key, info=_hpke_info(prefix + header_bytes))
    if len(sealed) != sealed_length:
        raise AssertionError("HPKE overhead changed; total_length would be wrong")
    signed_part = prefix + header_bytes + sealed
    return signed_part + session_key.sign(SIGNATURE_CONTEXT + signed_part)


def _counts(payload: OfflinePayload) -> dict[str, int]:
    return {
        "revisions": len(payload.revisions),
        "questions": payload.question_count(),
        "proctor_events": len(payload.proctor_log),
    }


def _hpke_info(prefix_and_header: bytes) -> bytes:
    return INFO_LABEL + hashlib.sha256(prefix_and_header).digest()


def _canonical_json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"), allow_nan=False).encode("utf-8")


def _payload_to_json(payload: OfflinePayload) -> dict[str, object]:
    return {
        "revisions": [
            {
                "question_id": r.question_id,
                "revision": r.revision,
                "value": r.value,
                "wall_time_ms": r.wall_time_ms,
                "mono_time_ns": r.mono_time_ns,
                "server_time_ms": r.server_time_ms,
                "synced": r.synced,
            }
            for r in payload.revisions
        ],
        "submission": {
            "state": payload.submission.state,
            "submitted_server_ms": payload.submission.submitted_server_ms,
            "submitted_wall_ms": payload.submission.submitted_wall_ms,
        },
        "proctor_log": [{"kind": e.kind, **e.to_payload()} for e in payload.proctor_log],
        "client": dict(payload.client_info),
        "counts": _counts(payload),
        # Optional within format version 1: an older server ignores it (keys it does not
        # read), an older file lacks it (no marks to merge).
        **({} if payload.marks is None else {"flags": {
            "question_ids": sorted(set(payload.marks.question_ids)),
            "changed_server_ms": payload.marks.changed_server_ms}}),
    }


# -- reading ---------------------------------------------------------------------------

def read_envelope(data: bytes) -> Envelope:
    """Split a file into its parts; checks structure only (magic, version, length)."""
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        if MAGIC.startswith(data[: len(MAGIC)]) and len(data) < len(MAGIC):
            raise _error("offline.truncated", _("离线答卷文件不完整（可能拷贝未完成）"),
                         size=len(data))
        raise _error("offline.not_a_file", _("这不是离线答卷文件"))
    if len(data) < PREFIX.size:
        raise _error("offline.truncated", _("离线答卷文件不完整（可能拷贝未完成）"),
                     size=len(data))
    _magic, version, flags, total, session_public, header_length = PREFIX.unpack_from(data)
    if version != FORMAT_VERSION or flags != 0:
        raise _error("offline.unsupported_version",
                     _("离线答卷文件的格式版本不受支持，请升级服务器"), version=version,
                     flags=flags)
    if len(data) < total:
        raise _error("offline.truncated", _("离线答卷文件不完整（可能拷贝未完成）"),
                     size=len(data), expected_size=total)
    if len(data) > total:
        raise _corrupt("trailing_bytes")
    sealed_start = PREFIX.size + header_length
    sealed_end = total - SIGNATURE_LENGTH
    if sealed_end - sealed_start < KEM.X25519.enc_length() + 16:
        raise _corrupt("lengths")
    return Envelope(
        version=version,
        session_public_key=session_public,
        header_bytes=data[PREFIX.size:sealed_start],
        signed_part=data[:sealed_end],
        sealed=data[sealed_start:sealed_end],
        signature=data[sealed_end:],
    )


def verify_signature(envelope: Envelope, *, session_public_key: Ed25519PublicKey) -> None:
    """Raise ``offline.signature_invalid`` unless the session key signed this file."""
    if raw_public_bytes(session_public_key) != envelope.session_public_key:
        raise _error("offline.signature_invalid", _("离线答卷文件的签名无效（文件被修改过）"),
                     reason="other_key")
    try:
        session_public_key.verify(envelope.signature, SIGNATURE_CONTEXT + envelope.signed_part)
    except InvalidSignature:
        raise _error("offline.signature_invalid",
                     _("离线答卷文件的签名无效（文件被修改过）")) from None


def parse_header(envelope: Envelope) -> OfflineFileHeader:
    """Read the header of a file whose signature was verified."""
    try:
        raw = json.loads(envelope.header_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _corrupt("header_json") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT_NAME:
        raise _corrupt("header_format")
    if raw.get("format_version") != envelope.version or raw.get("suite") != SUITE_NAME:
        raise _error("offline.unsupported_version",
                     _("离线答卷文件的格式版本不受支持，请升级服务器"),
                     version=raw.get("format_version"), suite=raw.get("suite"))
    counts = raw.get("counts")
    if not isinstance(counts, dict):
        raise _corrupt("header_counts")
    header = OfflineFileHeader(
        identity=FileIdentity(
            exam_id=_str(raw, "exam_id"),
            candidate_id=_str(raw, "candidate_id"),
            candidate_no=_str(raw, "candidate_no"),
            client_id=_str(raw, "client_id"),
            package_sha256=_str(raw, "package_sha256"),
            paper_id=_str(raw, "paper_id"),
        ),
        file_name=_str(raw, "file_name"),
        session_key_id=_str(raw, "session_key_id"),
        server_key_id=_str(raw, "server_key_id"),
        created_wall_ms=_int(raw, "created_wall_ms"),
        created_server_ms=_opt_int(raw, "created_server_ms"),
        export_seq=_int(raw, "export_seq"),
        revision_count=_int(counts, "revisions"),
        question_count=_int(counts, "questions"),
        proctor_event_count=_int(counts, "proctor_events"),
        key_certificate=_opt_str(raw, "key_certificate"),
    )
    if header.session_key_id != envelope.session_key_id:
        raise _corrupt("session_key_id")
    return header


def check_file_name(header: OfflineFileHeader, *, actual_name: str) -> None:
    """The name the file arrived under must be the one it was exported under."""
    if actual_name != header.file_name:
        raise _error("offline.renamed",
                     _("离线答卷文件被改过名：导出时的文件名是 {expected}").format(
                         expected=header.file_name),
                     expected=header.file_name, actual=actual_name)


def open_payload(envelope: Envelope, header: OfflineFileHeader, *,
                 server_box_key: X25519PrivateKey) -> OfflinePayload:
    """Decrypt and check the payload (server side)."""
    if header.server_key_id != key_id(raw_public_bytes(server_box_key.public_key())):
        raise _error("offline.wrong_server_key",
                     _("离线答卷文件是为另一台服务器加密的，本服务器无法打开"),
                     server_key_id=header.server_key_id)
    info = _hpke_info(envelope.signed_part[: PREFIX.size + len(envelope.header_bytes)])
    try:
        compressed = _SUITE.decrypt(envelope.sealed, server_box_key, info=info)
    except InvalidTag:
        raise _corrupt("decryption") from None
    inflater = zlib.decompressobj()
    try:
        plaintext = inflater.decompress(compressed, MAX_PAYLOAD_BYTES)
    except zlib.error:
        raise _corrupt("compression") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise _corrupt("payload_size")
    try:
        raw = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _corrupt("payload_json") from None
    payload = _payload_from_json(raw)
    expected = {"revisions": header.revision_count, "questions": header.question_count,
                "proctor_events": header.proctor_event_count}
    if _counts(payload) != expected or raw.get("counts") != expected:
        raise _error("offline.count_mismatch",
                     _("离线答卷文件内容与其记录的数量不符"),
                     expected=expected, actual=_counts(payload))
    return payload


def _payload_from_json(raw: object) -> OfflinePayload:
    if not isinstance(raw, dict):
        raise _corrupt("payload_shape")
    revisions_raw, submission_raw = raw.get("revisions"), raw.get("submission")
    log_raw, client_raw = raw.get("proctor_log"), raw.get("client")
    if not (isinstance(revisions_raw, list) and isinstance(submission_raw, dict)
            and isinstance(log_raw, list) and isinstance(client_raw, dict)):
        raise _corrupt("payload_shape")
    revisions = []
    for entry in revisions_raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("synced"), bool):
            raise _corrupt("revision_shape")
        revision = Revision(
            question_id=_str(entry, "question_id"),
            revision=_int(entry, "revision"),
            value=cast(JsonValue, entry.get("value")),
            wall_time_ms=_int(entry, "wall_time_ms"),
            mono_time_ns=_int(entry, "mono_time_ns"),
            server_time_ms=_opt_int(entry, "server_time_ms"),
            synced=bool(entry["synced"]),
        )
        if revision.revision < 1:
            raise _corrupt("revision_number")
        revisions.append(revision)
    state = submission_raw.get("state")
    if state not in _SUBMISSION_STATES:
        raise _corrupt("submission_state")
    submission = SubmissionInfo(
        state=cast(SubmissionStateName, state),
        submitted_server_ms=_opt_int(submission_raw, "submitted_server_ms"),
        submitted_wall_ms=_opt_int(submission_raw, "submitted_wall_ms"),
    )
    events = []
    for entry in log_raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("kind"), str):
            raise _corrupt("proctor_log_shape")
        try:
            events.append(ProctorEvent.from_payload(entry["kind"], entry))
        except ValueError:
            raise _corrupt("proctor_log_shape") from None
    return OfflinePayload(
        revisions=tuple(revisions),
        submission=submission,
        proctor_log=tuple(events),
        client_info={str(k): str(v) for k, v in client_raw.items()},
        marks=_marks_from_json(raw.get("flags")),
    )


def _marks_from_json(raw: object) -> Marks | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _corrupt("flags_shape")
    ids = raw.get("question_ids")
    if not isinstance(ids, list) or not all(isinstance(q, str) for q in ids):
        raise _corrupt("flags_shape")
    return Marks(question_ids=tuple(ids), changed_server_ms=_opt_int(raw, "changed_server_ms"))


def _str(raw: Mapping[str, object], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str):
        raise _corrupt(f"field:{name}")
    return value


def _opt_str(raw: Mapping[str, object], name: str) -> str:
    value = raw.get(name, "")
    if not isinstance(value, str):
        raise _corrupt(f"header_{name}")
    return value


def _int(raw: Mapping[str, object], name: str) -> int:
    value = raw.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _corrupt(f"field:{name}")
    return value


def _opt_int(raw: Mapping[str, object], name: str) -> int | None:
    return None if raw.get(name) is None else _int(raw, name)


def verify_own_file(data: bytes, *, file_name: str,
                    session_public_key: Ed25519PublicKey) -> OfflineFileHeader:
    """Client side read-back check: structure, our signature, the name. (The client cannot
    decrypt its own file: only the server can.)"""
    envelope = read_envelope(data)
    verify_signature(envelope, session_public_key=session_public_key)
    header = parse_header(envelope)
    check_file_name(header, actual_name=file_name)
    return header


def revisions_sorted(revisions: Sequence[Revision]) -> tuple[Revision, ...]:
    """The order used in files: by question, then revision (stable, diff-friendly)."""
    return tuple(sorted(revisions, key=lambda r: (r.question_id, r.revision)))
