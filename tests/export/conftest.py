from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from export_samples import make_revisions

from client.export.offline_file import FileIdentity, OfflinePayload, SubmissionInfo
from client.proctor.proctor_log import ProctorEvent


@pytest.fixture
def session_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def server_box() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


@pytest.fixture
def identity() -> FileIdentity:
    return FileIdentity(exam_id="demo-exam", candidate_id="7", candidate_no="2024000001",
                        client_id="pc-17", package_sha256="ab" * 32, paper_id="paper-1")


@pytest.fixture
def payload() -> OfflinePayload:
    return OfflinePayload(
        revisions=tuple(make_revisions(5, per_question=2, secret_text="绝密作文")),
        submission=SubmissionInfo(state="answering"),
        proctor_log=(ProctorEvent(kind="proctor.unlocked", proctor_id="p1",
                                  wall_time_ms=1, server_time_ms=2, detail={"name": "王老师"}),),
        client_info={"app_version": "0.1.0", "platform": "test"},
    )
