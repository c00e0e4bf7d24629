"""Package download over real HTTP: ETag, If-None-Match, and Range resume."""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from client.paper.package import open_package, verify_package
from server.testing import LiveServer

PACKAGE = "/exams/demo-exam/package"


def _login_exam(api) -> tuple[str, dict]:
    body = api.login().json()
    return body["token"], body["exam"]


def test_full_download_matches_login_facts_and_verifies(api, server: LiveServer) -> None:
    token, exam = _login_exam(api)
    response = api.get(PACKAGE, token=token)
    assert response.status_code == 200
    assert response.headers["ETag"] == exam["package_etag"]
    assert response.headers["Accept-Ranges"] == "bytes"
    data = response.content
    assert len(data) == exam["package_size"]
    assert hashlib.sha256(data).hexdigest() == exam["package_sha256"]
    key = base64.b64decode(api.get("/server-keys").json()["signing_public_key"])
    header = verify_package(
        data, trusted_key=Ed25519PublicKey.from_public_bytes(key), expected_exam_id="demo-exam"
    )
    assert header.paper_id == "server-test-paper"


def test_if_none_match_gives_304(api) -> None:
    token, exam = _login_exam(api)
    response = api.get(PACKAGE, token=token, headers={"If-None-Match": exam["package_etag"]})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["ETag"] == exam["package_etag"]
    other = api.get(PACKAGE, token=token, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and len(other.content) == exam["package_size"]


def test_interrupted_download_resumes_with_range(api) -> None:
    token, exam = _login_exam(api)
    size = exam["package_size"]
    # Start a real download and drop the connection part-way through.
    with api.session.get(
        api.server.api(PACKAGE), headers={"Authorization": f"Bearer {token}"},
        stream=True, timeout=10,
    ) as response:
        first = response.raw.read(size // 3)
    assert 0 < len(first) < size
    resumed = api.get(
        PACKAGE,
        token=token,
        headers={"Range": f"bytes={len(first)}-", "If-Range": exam["package_etag"]},
    )
    assert resumed.status_code == 206
    assert resumed.headers["Content-Range"] == f"bytes {len(first)}-{size - 1}/{size}"
    assert hashlib.sha256(first + resumed.content).hexdigest() == exam["package_sha256"]


def test_if_range_with_a_stale_etag_sends_the_whole_file(api) -> None:
    token, exam = _login_exam(api)
    response = api.get(PACKAGE, token=token, headers={"Range": "bytes=10-", "If-Range": '"old"'})
    assert response.status_code == 200
    assert len(response.content) == exam["package_size"]


def test_unsatisfiable_range_is_416(api) -> None:
    token, exam = _login_exam(api)
    response = api.get(PACKAGE, token=token,
                       headers={"Range": f"bytes={exam['package_size'] + 10}-"})
    assert response.status_code == 416


def test_package_needs_a_token_for_that_exam(api) -> None:
    assert api.get(PACKAGE).json()["error"] == "unauthorized"
    assert api.get(PACKAGE, token="forged").status_code == 401
    token, _exam = _login_exam(api)
    other = api.get("/exams/other-exam/package", token=token)
    assert other.status_code == 403 and other.json()["error"] == "wrong_exam"


def test_paper_key_only_from_the_start(api, server: LiveServer) -> None:
    token, exam = _login_exam(api)
    early = api.get("/exams/demo-exam/paper-key", token=token)
    assert early.status_code == 403
    body = early.json()
    assert body["error"] == "not_started"
    assert body["detail"]["start_ms"] == exam["start_ms"]
    assert body["detail"]["epoch_ms"] < exam["start_ms"]
    server.clock.set_now(exam["start_ms"] - 2_000)
    assert api.get("/exams/demo-exam/paper-key", token=token).status_code == 403
    server.clock.set_now(exam["start_ms"])
    released = api.get("/exams/demo-exam/paper-key", token=token)
    assert released.status_code == 200
    paper_key = base64.b64decode(released.json()["paper_key"])
    paper = open_package(
        api.get(PACKAGE, token=token).content,
        trusted_key=Ed25519PublicKey.from_public_bytes(server.signing_public_key),
        expected_exam_id="demo-exam",
        paper_key=paper_key,
    )
    assert [item.id for item in paper.items()] == ["q1", "q2", "q3", "q4", "q5"]
    assert all(item.key is None for item in paper.items())  # keys never leave the server
