from __future__ import annotations

import dataclasses
import struct
import zlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from client.export import offline_file as of
from client.export.offline_file import OfflineFileError


def build(identity, payload, session_key, server_box, *, name="a.examans", seq=1) -> bytes:
    return of.build_offline_file(identity=identity, payload=payload, file_name=name,
                                 created_wall_ms=100, created_server_ms=200, export_seq=seq,
                                 session_key=session_key, server_box_key=server_box.public_key())


def open_file(data: bytes, session_key, server_box, *, name="a.examans"):
    envelope = of.read_envelope(data)
    of.verify_signature(envelope, session_public_key=session_key.public_key())
    header = of.parse_header(envelope)
    of.check_file_name(header, actual_name=name)
    return header, of.open_payload(envelope, header, server_box_key=server_box)


def test_round_trip_keeps_every_revision_and_the_proctor_log(identity, payload, session_key,
                                                              server_box):
    data = build(identity, payload, session_key, server_box)
    header, opened = open_file(data, session_key, server_box)
    assert header.identity == identity
    assert header.file_name == "a.examans"
    assert (header.revision_count, header.question_count, header.proctor_event_count) == (10, 5, 1)
    assert header.created_server_ms == 200 and header.export_seq == 1
    assert opened.revisions == payload.revisions
    assert opened.proctor_log == payload.proctor_log
    assert opened.submission == payload.submission
    assert dict(opened.client_info) == dict(payload.client_info)


def test_answers_are_not_readable_without_the_server_key(identity, payload, session_key,
                                                         server_box):
    data = build(identity, payload, session_key, server_box)
    assert "绝密作文".encode() not in data
    # not even after undoing a compression layer somewhere in the file
    for start in range(len(data)):
        try:
            assert "绝密作文".encode() not in zlib.decompressobj().decompress(data[start:])
        except zlib.error:
            continue
    other_server = X25519PrivateKey.generate()
    envelope = of.read_envelope(data)
    header = of.parse_header(envelope)
    with pytest.raises(OfflineFileError) as err:
        of.open_payload(envelope, header, server_box_key=other_server)
    assert err.value.code == "offline.wrong_server_key"


def test_every_flipped_byte_is_refused(identity, payload, session_key, server_box):
    data = build(identity, payload, session_key, server_box)
    codes = set()
    for position in range(len(data)):
        tampered = bytearray(data)
        tampered[position] ^= 0x01
        with pytest.raises(OfflineFileError) as err:
            open_file(bytes(tampered), session_key, server_box)
        codes.add((position, err.value.code))
    by_code: dict[str, int] = {}
    for _pos, code in codes:
        by_code[code] = by_code.get(code, 0) + 1
    # header, ciphertext and signature bytes all fail the signature check
    assert by_code["offline.signature_invalid"] > len(data) - of.PREFIX.size
    assert set(by_code) <= {"offline.signature_invalid", "offline.not_a_file",
                            "offline.unsupported_version", "offline.truncated",
                            "offline.corrupt"}


@pytest.mark.parametrize(("position", "code"), [
    (0, "offline.not_a_file"),
    (9, "offline.unsupported_version"),
    (11, "offline.unsupported_version"),     # unknown flags
    (30, "offline.signature_invalid"),      # inside the session public key
    (-1, "offline.signature_invalid"),      # signature
    (-100, "offline.signature_invalid"),    # ciphertext
])
def test_specific_tampering_codes(identity, payload, session_key, server_box, position, code):
    data = bytearray(build(identity, payload, session_key, server_box))
    data[position] ^= 0x40
    with pytest.raises(OfflineFileError) as err:
        open_file(bytes(data), session_key, server_box)
    assert err.value.code == code


def test_header_byte_flip_fails_the_signature(identity, payload, session_key, server_box):
    data = bytearray(build(identity, payload, session_key, server_box))
    data[of.PREFIX.size + 5] ^= 0x01
    with pytest.raises(OfflineFileError) as err:
        open_file(bytes(data), session_key, server_box)
    assert err.value.code == "offline.signature_invalid"


@pytest.mark.parametrize("keep", [0.0, 0.3, 0.5, 0.99])
def test_truncated_file(identity, payload, session_key, server_box, keep):
    data = build(identity, payload, session_key, server_box)
    cut = data[: int(len(data) * keep)] if keep else data[:5]
    with pytest.raises(OfflineFileError) as err:
        of.read_envelope(cut)
    assert err.value.code == "offline.truncated"


def test_last_byte_missing_is_truncated(identity, payload, session_key, server_box):
    data = build(identity, payload, session_key, server_box)
    with pytest.raises(OfflineFileError) as err:
        of.read_envelope(data[:-1])
    assert err.value.code == "offline.truncated"


def test_appended_bytes_are_refused(identity, payload, session_key, server_box):
    data = build(identity, payload, session_key, server_box)
    with pytest.raises(OfflineFileError) as err:
        of.read_envelope(data + b"\x00")
    assert err.value.code == "offline.corrupt"


def test_not_a_file():
    with pytest.raises(OfflineFileError) as err:
        of.read_envelope(b"PK\x03\x04 a zip file, not ours" * 10)
    assert err.value.code == "offline.not_a_file"


def test_renamed_file_is_detected(identity, payload, session_key, server_box):
    data = build(identity, payload, session_key, server_box, name="exam_2024_x.examans")
    with pytest.raises(OfflineFileError) as err:
        open_file(data, session_key, server_box, name="exam_2024_x (1).examans")
    assert err.value.code == "offline.renamed"
    assert err.value.detail["expected"] == "exam_2024_x.examans"


def test_signature_by_another_key_is_refused(identity, payload, session_key, server_box):
    data = build(identity, payload, session_key, server_box)
    with pytest.raises(OfflineFileError) as err:
        open_file(data, Ed25519PrivateKey.generate(), server_box)
    assert err.value.code == "offline.signature_invalid"


def test_swapped_key_and_resigned_file_is_still_bound_to_the_new_key(identity, payload,
                                                                       session_key, server_box):
    # An attacker can re-sign with their own key, but then the file names their key:
    # the server looks the key up and finds it is not this candidate's (server tests).
    data = build(identity, payload, session_key, server_box)
    envelope = of.read_envelope(data)
    assert envelope.session_public_key == of.raw_public_bytes(session_key.public_key())
    assert of.parse_header(envelope).session_key_id == envelope.session_key_id


def test_count_mismatch_is_reported(identity, payload, session_key, server_box):
    # A buggy client that writes counts not matching its payload: signed, decryptable,
    # and still refused (the Anki-style final count check).
    real_counts = of._counts
    try:
        of._counts = lambda p: {**real_counts(p), "revisions": 999}  # type: ignore[assignment]
        data = build(identity, payload, session_key, server_box)
    finally:
        of._counts = real_counts  # type: ignore[assignment]
    envelope = of.read_envelope(data)
    header = of.parse_header(envelope)
    with pytest.raises(OfflineFileError) as err:
        of.open_payload(envelope, header, server_box_key=server_box)
    assert err.value.code == "offline.count_mismatch"


def test_prefix_layout_is_as_documented(identity, payload, session_key, server_box):
    data = build(identity, payload, session_key, server_box)
    magic, version, flags, total, _key, hlen = struct.unpack_from(">8sHHQ32sI", data)
    assert (magic, version, flags, total) == (b"EXAMANSW", 1, 0, len(data))
    assert data[56:56 + hlen].startswith(b"{")


def test_empty_payload_round_trips(identity, payload, session_key, server_box):
    empty = dataclasses.replace(payload, revisions=(), proctor_log=())
    data = build(identity, empty, session_key, server_box)
    header, opened = open_file(data, session_key, server_box)
    assert header.revision_count == 0 and opened.revisions == ()


def test_the_candidates_marks_round_trip_and_a_file_without_them_says_none(
        identity, payload, session_key, server_box):
    """The marks (标记) ride in the sealed payload with their change time (issue 15: they
    survive export and import); a file that carries none opens with ``marks`` None."""
    marked = dataclasses.replace(payload, marks=of.Marks(question_ids=("q3", "q1"),
                                                         changed_server_ms=1234))
    _header, opened = open_file(build(identity, marked, session_key, server_box),
                                session_key, server_box)
    assert opened.marks == of.Marks(question_ids=("q1", "q3"), changed_server_ms=1234)
    data = build(identity, payload, session_key, server_box)
    assert open_file(data, session_key, server_box)[1].marks is None
    assert b"q3" not in data  # sealed, like the answers


@pytest.mark.parametrize("raw", [["q1"], {"question_ids": "q1"}, {"question_ids": [1]},
                                 {"question_ids": [], "changed_server_ms": "soon"}])
def test_marks_of_the_wrong_shape_are_refused_as_corrupt(raw):
    good = of._payload_to_json(of.OfflinePayload(
        revisions=(), submission=of.SubmissionInfo(state="answering"), proctor_log=(),
        client_info={}))
    with pytest.raises(OfflineFileError) as err:
        of._payload_from_json({**good, "flags": raw})
    assert err.value.code == "offline.corrupt"
