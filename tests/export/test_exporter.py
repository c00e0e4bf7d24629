from __future__ import annotations

import pytest
from export_samples import make_revisions

from client.errors import UserFacingError
from client.export import offline_file as of
from client.export.exporter import ExportSnapshot, export_offline_file
from client.export.offline_file import SubmissionInfo


def snapshot(identity, revisions, *, seq, state="answering"):
    return ExportSnapshot(identity=identity, revisions=revisions,
                          submission=SubmissionInfo(state=state), proctor_log=(),
                          client_info={"app_version": "t"}, export_seq=seq)


def server_open(path, session_key, server_box):
    envelope = of.read_envelope(path.read_bytes())
    of.verify_signature(envelope, session_public_key=session_key.public_key())
    header = of.parse_header(envelope)
    of.check_file_name(header, actual_name=path.name)
    return header, of.open_payload(envelope, header, server_box_key=server_box)


def test_export_writes_a_named_verified_file(tmp_path, identity, session_key, server_box):
    result = export_offline_file(folder=tmp_path, snapshot=snapshot(identity, make_revisions(3),
                                                                    seq=1),
                                 session_key=session_key, server_box_key=server_box.public_key(),
                                 wall_time_ms=0, server_time_ms=1_718_418_605_000)
    assert result.path.parent == tmp_path and result.path.name == result.file_name
    assert result.file_name.startswith("demo-exam_2024000001_2024061")
    assert (result.revision_count, result.question_count) == (3, 3)
    header, payload = server_open(result.path, session_key, server_box)
    assert header.created_server_ms == 1_718_418_605_000 and header.created_wall_ms == 0
    assert len(payload.revisions) == 3


def test_newer_export_contains_everything_older_did(tmp_path, identity, session_key,
                                                    server_box):
    first_revisions = make_revisions(3)
    first = export_offline_file(folder=tmp_path, snapshot=snapshot(identity, first_revisions,
                                                                   seq=1),
                                session_key=session_key, server_box_key=server_box.public_key(),
                                wall_time_ms=0, server_time_ms=1_000_000)
    later_revisions = make_revisions(6, per_question=2)
    second = export_offline_file(folder=tmp_path,
                                 snapshot=snapshot(identity, later_revisions, seq=2,
                                                   state="submitted"),
                                 session_key=session_key, server_box_key=server_box.public_key(),
                                 wall_time_ms=0, server_time_ms=2_000_000)
    assert first.path != second.path and first.path.exists()
    _, old = server_open(first.path, session_key, server_box)
    header, new = server_open(second.path, session_key, server_box)
    assert {(r.question_id, r.revision) for r in old.revisions} <= {
        (r.question_id, r.revision) for r in new.revisions}
    assert header.export_seq == 2 and new.submission.state == "submitted"


def test_export_to_a_missing_folder_says_so(tmp_path, identity, session_key, server_box):
    with pytest.raises(UserFacingError) as err:
        export_offline_file(folder=tmp_path / "pulled-out", snapshot=snapshot(identity, [], seq=1),
                            session_key=session_key, server_box_key=server_box.public_key(),
                            wall_time_ms=0, server_time_ms=None)
    assert err.value.code == "export.folder_missing"
