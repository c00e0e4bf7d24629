"""OfflineExporter over a real SQLCipher store and its writer thread."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from client.export import offline_file as of
from client.export.offline_file import FileIdentity
from client.export.session_export import OfflineExporter, ensure_session_key
from client.store import AnswerStore, StoreWriter

KEY = bytes(range(32))
END = 2_000_000


@pytest.fixture
def writer(tmp_path):
    w = StoreWriter(lambda: AnswerStore.open(tmp_path / "answers.db", key=KEY,
                                             snapshot_policy=None))
    w.ready().result()
    yield w
    w.close()


def make_exporter(writer, box, now):
    return OfflineExporter(writer=writer,
                           identity=FileIdentity("e1", "7", "2024000001", "pc", "00" * 32),
                           server_box_key=box.public_key(), server_time_ms=lambda: now[0],
                           exam_end_ms=END, wall_time_ms=lambda: 5)


def opened(result, box):
    envelope = of.read_envelope(result.path.read_bytes())
    header = of.parse_header(envelope)
    return header, of.open_payload(envelope, header, server_box_key=box)


def test_session_key_is_created_once_and_kept(writer):
    first = writer.call(ensure_session_key).result()
    again = writer.call(ensure_session_key).result()
    assert of.raw_public_bytes(first.public_key()) == of.raw_public_bytes(again.public_key())


def test_export_sequence_and_submission_states(writer, tmp_path):
    box = X25519PrivateKey.generate()
    now = [1_000_000]
    exporter = make_exporter(writer, box, now)
    writer.save(question_id="q1", value="A", server_time_ms=now[0], on_done=lambda r: None,
                coalesce=True)  # still inside the coalescing window: export flushes it
    header, payload = opened(exporter.export(tmp_path), box)
    assert header.export_seq == 1 and payload.submission.state == "answering"
    assert [(r.question_id, r.value) for r in payload.revisions] == [("q1", "A")]
    key = writer.call(ensure_session_key).result()
    assert header.session_key_id == of.key_id(of.raw_public_bytes(key.public_key()))

    writer.call(lambda store: store.set_meta("sealed", "1")).result()
    now[0] += 1000
    header, payload = opened(exporter.export(tmp_path), box)
    assert header.export_seq == 2
    assert payload.submission == of.SubmissionInfo("submitted", submitted_server_ms=now[0])

    now[0] = END + 10  # sealed by the clock at the end: the automatic submission
    _header, payload = opened(exporter.export(tmp_path), box)
    assert payload.submission == of.SubmissionInfo("auto_submitted", submitted_server_ms=END)

    writer.call(lambda store: store.set_meta("submitted_at_ms", "1500000")).result()
    _header, payload = opened(exporter.export(tmp_path), box)
    assert payload.submission == of.SubmissionInfo("submitted", submitted_server_ms=1_500_000)
