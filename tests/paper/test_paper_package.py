"""The .exampkg format: round trip, the documented layout, and every refusal."""

from __future__ import annotations

import dataclasses
import json
import struct
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paper_forge import MAGIC, forge_package, read_package, zip_of
from paper_samples import sample_document, sample_media, tiny_png

from client.errors import UserFacingError
from client.paper.model import Paper
from client.paper.package import (
    PackageError,
    build_package,
    generate_paper_key,
    open_package,
    verify_package,
)
from client.paper.source import PaperSource

EXAM = "exam-2024-autumn"


@pytest.fixture(scope="module")
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def paper_key() -> bytes:
    return generate_paper_key()


@pytest.fixture(scope="module")
def source() -> PaperSource:
    return PaperSource(sample_document(), sample_media())


@pytest.fixture(scope="module")
def package(source: PaperSource, signing_key: Ed25519PrivateKey, paper_key: bytes) -> bytes:
    return build_package(source=source, exam_id=EXAM, paper_key=paper_key,
                         signing_key=signing_key, extra_header={"verifiers": {"c1": "abc"}})


def _open(data: bytes, signing_key: Ed25519PrivateKey, paper_key: bytes, *,
          exam: str = EXAM) -> Paper:
    return open_package(data, trusted_key=signing_key.public_key(), expected_exam_id=exam,
                        paper_key=paper_key)


def _refusal(data: bytes, signing_key: Ed25519PrivateKey, paper_key: bytes, **kw: Any) -> str:
    with pytest.raises(PackageError) as caught:
        _open(data, signing_key, paper_key, **kw)
    assert caught.value.message  # a translated sentence for the person in front of the PC
    return caught.value.code


def _header_span(data: bytes) -> tuple[int, int]:
    (hlen,) = struct.unpack(">I", data[8:12])
    return 12, 12 + hlen


# --- round trip and layout ----------------------------------------------------------------

def test_round_trip_gives_the_source_paper_without_keys(
        package: bytes, source: PaperSource, signing_key: Ed25519PrivateKey,
        paper_key: bytes) -> None:
    opened = _open(package, signing_key, paper_key)
    expected = dataclasses.replace(source.load(), exam_id=EXAM).without_keys()
    assert opened == expected
    assert dict(opened.media) == sample_media()
    assert all(item.key is None for item in opened.items())


def test_include_keys_ships_the_keys(source: PaperSource, signing_key: Ed25519PrivateKey,
                                     paper_key: bytes) -> None:
    data = build_package(source=source, exam_id=EXAM, paper_key=paper_key,
                         signing_key=signing_key, include_keys=True)
    opened = _open(data, signing_key, paper_key)
    assert opened == dataclasses.replace(source.load(), exam_id=EXAM)
    assert opened.item("q5").key == [["北京", "Beijing"], ["上海"]]


def test_header_fields(package: bytes, signing_key: Ed25519PrivateKey) -> None:
    header = verify_package(package, trusted_key=signing_key.public_key(),
                            expected_exam_id=EXAM)
    assert header.format_version == 1
    assert header.exam_id == EXAM
    assert header.paper_id == "sample-1"
    assert abs(header.created_at_ms - time.time() * 1000) < 60_000
    assert len(header.nonce) == 12
    assert len(header.body_sha256) == 64
    assert header.extra == {"verifiers": {"c1": "abc"}}


def test_layout_matches_the_contract(package: bytes, paper_key: bytes,
                                     signing_key: Ed25519PrivateKey) -> None:
    assert package[:8] == b"EXAMPKG\x01"
    signing_key.public_key().verify(package[-64:], package[:-64])
    header, members = read_package(package, paper_key=paper_key)
    assert set(members) == {"paper.json", "media/fig.png", "media/clip.wav"}
    assert json.loads(members["paper.json"])["exam_id"] == EXAM
    assert members["media/fig.png"] == tiny_png()
    assert header["body_size"] == len(package) - 64 - _header_span(package)[1]


def test_forged_package_in_the_documented_layout_opens(
        source: PaperSource, signing_key: Ed25519PrivateKey, paper_key: bytes) -> None:
    paper = dataclasses.replace(source.load(), exam_id=EXAM)
    members = {"paper.json": json.dumps(paper.to_json_dict()).encode()}
    members |= {f"media/{name}": data for name, data in paper.media.items()}
    data = forge_package(body_zip=zip_of(members), exam_id=EXAM, paper_id="sample-1",
                         paper_key=paper_key, signing_key=signing_key)
    assert _open(data, signing_key, paper_key) == paper


def test_each_build_uses_a_fresh_nonce(source: PaperSource, signing_key: Ed25519PrivateKey,
                                       paper_key: bytes) -> None:
    first, second = (
        verify_package(build_package(source=source, exam_id=EXAM, paper_key=paper_key,
                                     signing_key=signing_key),
                       trusted_key=signing_key.public_key(), expected_exam_id=EXAM)
        for _ in range(2)
    )
    assert first.nonce != second.nonce
    assert first.body_sha256 == second.body_sha256  # the zip itself is deterministic


def test_bad_arguments_are_programming_errors(source: PaperSource,
                                              signing_key: Ed25519PrivateKey) -> None:
    with pytest.raises(ValueError):
        build_package(source=source, exam_id=EXAM, paper_key=b"short", signing_key=signing_key)
    with pytest.raises(ValueError):
        build_package(source=source, exam_id="", paper_key=generate_paper_key(),
                      signing_key=signing_key)
    with pytest.raises(TypeError):
        build_package(source=source, exam_id=EXAM, paper_key=generate_paper_key(),
                      signing_key=signing_key, extra_header={"x": object()})


def test_invalid_source_is_refused_at_build(signing_key: Ed25519PrivateKey) -> None:
    document = sample_document()
    del document["sections"][0]["items"][1]["options"]
    with pytest.raises(UserFacingError) as caught:
        build_package(source=PaperSource(document, sample_media()), exam_id=EXAM,
                      paper_key=generate_paper_key(), signing_key=signing_key)
    assert caught.value.code == "paper.invalid"
    assert caught.value.detail["item"] == "q2"


# --- refusals -----------------------------------------------------------------------------

def test_truncated_at_many_offsets(package: bytes, signing_key: Ed25519PrivateKey,
                                   paper_key: bytes) -> None:
    _start, header_end = _header_span(package)
    for cut in (0, 1, 5, 8, 11, 12, 40, header_end - 1, header_end + 10,
                len(package) // 2, len(package) - 65, len(package) - 64, len(package) - 1):
        assert _refusal(package[:cut], signing_key, paper_key) == "package.truncated", cut


@pytest.mark.parametrize("where", ["header", "body", "signature"])
def test_one_flipped_byte_breaks_the_signature(where: str, package: bytes,
                                               signing_key: Ed25519PrivateKey,
                                               paper_key: bytes) -> None:
    start, header_end = _header_span(package)
    offset = {"header": start + 20, "body": (header_end + len(package) - 64) // 2,
              "signature": len(package) - 10}[where]
    damaged = bytearray(package)
    damaged[offset] ^= 0x01
    assert _refusal(bytes(damaged), signing_key, paper_key) == "package.signature_invalid"
    with pytest.raises(PackageError):
        verify_package(bytes(damaged), trusted_key=signing_key.public_key(),
                       expected_exam_id=EXAM)


def test_flipped_magic_is_not_a_package(package: bytes, signing_key: Ed25519PrivateKey,
                                        paper_key: bytes) -> None:
    assert _refusal(b"X" + package[1:], signing_key, paper_key) == "package.not_a_package"


def test_resigned_with_another_key(package: bytes, signing_key: Ed25519PrivateKey,
                                   paper_key: bytes) -> None:
    intruder = Ed25519PrivateKey.generate()
    resigned = package[:-64] + intruder.sign(package[:-64])
    assert _refusal(resigned, signing_key, paper_key) == "package.signature_invalid"


def test_wrong_exam(package: bytes, signing_key: Ed25519PrivateKey, paper_key: bytes) -> None:
    assert _refusal(package, signing_key, paper_key, exam="another-exam") == "package.wrong_exam"
    with pytest.raises(PackageError) as caught:
        verify_package(package, trusted_key=signing_key.public_key(),
                       expected_exam_id="another-exam")
    assert caught.value.detail == {"expected": "another-exam", "found": EXAM}


def test_wrong_paper_key(package: bytes, signing_key: Ed25519PrivateKey) -> None:
    assert _refusal(package, signing_key, generate_paper_key()) == "package.wrong_key"
    assert _refusal(package, signing_key, b"\x00" * 16) == "package.wrong_key"


@pytest.mark.parametrize("content", [
    b"",
    b"hello, this is a text file, not an exam package at all\n" * 3,
    b"%PDF-1.7\n" + bytes(200),
    zip_of({"paper.json": b"{}"}),
])
def test_not_a_package(content: bytes, signing_key: Ed25519PrivateKey, paper_key: bytes) -> None:
    expected = "package.truncated" if not content else "package.not_a_package"
    assert _refusal(content, signing_key, paper_key) == expected


def test_unsupported_version_by_magic(package: bytes, signing_key: Ed25519PrivateKey,
                                      paper_key: bytes) -> None:
    future = b"EXAMPKG\x02" + package[8:]
    assert _refusal(future, signing_key, paper_key) == "package.unsupported_version"


def test_unsupported_version_in_signed_header(signing_key: Ed25519PrivateKey,
                                              paper_key: bytes) -> None:
    data = forge_package(body_zip=zip_of({"paper.json": b"{}"}), exam_id=EXAM,
                         paper_id="p", paper_key=paper_key, signing_key=signing_key,
                         header_changes={"format_version": 2})
    assert _refusal(data, signing_key, paper_key) == "package.unsupported_version"


def _signed_body(members: dict[str, bytes], signing_key: Ed25519PrivateKey, paper_key: bytes,
                 **header_changes: Any) -> bytes:
    return forge_package(body_zip=zip_of(members), exam_id=EXAM, paper_id="sample-1",
                         paper_key=paper_key, signing_key=signing_key,
                         header_changes=header_changes)


def _valid_members(source: PaperSource) -> dict[str, bytes]:
    paper = dataclasses.replace(source.load(), exam_id=EXAM)
    members = {"paper.json": json.dumps(paper.to_json_dict()).encode()}
    members |= {f"media/{name}": data for name, data in paper.media.items()}
    return members


@pytest.mark.parametrize("evil_name", ["../evil.png", "media/../../evil.png", "/etc/passwd",
                                       "media\\..\\evil.png", "C:/evil.png", "notes.txt"])
def test_zip_with_unsafe_member_is_corrupt(evil_name: str, source: PaperSource,
                                           signing_key: Ed25519PrivateKey,
                                           paper_key: bytes) -> None:
    members = _valid_members(source) | {evil_name: b"x"}
    data = _signed_body(members, signing_key, paper_key)
    assert _refusal(data, signing_key, paper_key) == "package.corrupt"


def test_missing_media_in_package_is_corrupt(source: PaperSource,
                                             signing_key: Ed25519PrivateKey,
                                             paper_key: bytes) -> None:
    members = _valid_members(source)
    del members["media/fig.png"]
    data = _signed_body(members, signing_key, paper_key)
    with pytest.raises(PackageError) as caught:
        _open(data, signing_key, paper_key)
    assert caught.value.code == "package.corrupt"
    assert caught.value.detail["item"] == "q2"


def test_declared_zip_bomb_is_refused(source: PaperSource, signing_key: Ed25519PrivateKey,
                                      paper_key: bytes) -> None:
    body = bytearray(zip_of(_valid_members(source)))
    # Make the central directory claim a 4 GB paper.json: refused before anything inflates.
    entry = body.rfind(b"PK\x01\x02", 0, body.find(b"PK\x05\x06"))
    while body[entry + 46: entry + 46 + 10] != b"paper.json":
        entry = body.rfind(b"PK\x01\x02", 0, entry)
    body[entry + 24: entry + 28] = struct.pack("<I", 0xFFFF_FF00)
    data = forge_package(body_zip=bytes(body), exam_id=EXAM, paper_id="sample-1",
                         paper_key=paper_key, signing_key=signing_key)
    with pytest.raises(PackageError) as caught:
        _open(data, signing_key, paper_key)
    assert caught.value.code == "package.corrupt"
    assert "uncompressed size exceeds" in str(caught.value.detail["reason"])


@pytest.mark.parametrize("changes", [
    {"body_sha256": "0" * 64},
    {"paper_id": "another-paper"},
    {"body_size": 5},
    {"nonce": "not base64!"},
    {"exam_id": 7},
])
def test_inconsistent_signed_header_is_corrupt(changes: dict[str, Any], source: PaperSource,
                                               signing_key: Ed25519PrivateKey,
                                               paper_key: bytes) -> None:
    data = _signed_body(_valid_members(source), signing_key, paper_key, **changes)
    assert _refusal(data, signing_key, paper_key) == "package.corrupt"


def test_body_that_is_not_a_paper_is_corrupt(signing_key: Ed25519PrivateKey,
                                             paper_key: bytes) -> None:
    for members in ({"paper.json": b"not json"}, {"media/fig.png": tiny_png()},
                    {"paper.json": b"[1, 2]"}):
        data = _signed_body(members, signing_key, paper_key)
        assert _refusal(data, signing_key, paper_key) == "package.corrupt"


def test_package_error_is_user_facing() -> None:
    assert issubclass(PackageError, UserFacingError)
    assert MAGIC == b"EXAMPKG\x01"
