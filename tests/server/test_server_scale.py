"""Server scale and abuse limits (issue 18): durable writes, request limits checked before
the body is read, login throttling and queueing, one sweeper per farm, the one-transaction
upload path and schema migrations. Against SQLite, and PostgreSQL when
EXAM_SERVER_TEST_POSTGRES_URL is set (scripts/test.sh does)."""

from __future__ import annotations

import concurrent.futures
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from server_testkit import Api
from sqlalchemy import create_engine, inspect, select, text

from server import schema as t
from server import staff_throttle
from server.db import Database, token_digest
from server.leader import Leadership
from server.request_limits import ADMIN_UPLOAD_PATH, ANSWERS_LIMIT
from server.staff_throttle import MAX_FAILURES_PER_ACCOUNT as MAX_FAILURES
from server.testing import LiveServer, live_server, login_gate_full


def _raw_request(server: LiveServer, head: str, *, body: bytes = b"",
                 timeout: float = 5.0) -> tuple[bytes, float]:
    """Send *head* (and *body*) on a raw socket; return the response and how long it took."""
    address = urlsplit(server.url)
    started = time.monotonic()
    with socket.create_connection((address.hostname, address.port), timeout=timeout) as sock:
        sock.sendall(head.encode() + body)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks):
                break
    return b"".join(chunks), time.monotonic() - started


# -- durability ----------------------------------------------------------------------------

def test_writes_are_durable(server: LiveServer) -> None:
    db = server.db
    with db.read() as conn:
        if db.is_sqlite:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        else:
            assert conn.execute(text("SHOW synchronous_commit")).scalar() == "on"
            assert conn.execute(text("SHOW fsync")).scalar() == "on"


# -- request limits ------------------------------------------------------------------------

def test_anonymous_huge_upload_is_refused_before_the_body_is_read(server: LiveServer) -> None:
    two_gib = 2 * 1024**3
    head = (f"POST {ADMIN_UPLOAD_PATH} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {two_gib}\r\n\r\n")
    # Only the first 64 KiB of the body are sent: an answer means it was not waited for.
    response, seconds = _raw_request(server, head, body=b"x" * 65536)
    assert response.startswith(b"HTTP/1.1 413") or response.startswith(b"HTTP/1.1 401")
    assert seconds < 3


def test_anonymous_upload_within_the_size_limit_is_refused_unread(server: LiveServer) -> None:
    head = (f"POST {ADMIN_UPLOAD_PATH} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {100 * 1024 * 1024}\r\n\r\n")
    response, seconds = _raw_request(server, head, body=b"x" * 1024)
    assert response.startswith(b"HTTP/1.1 401"), response[:200]
    assert seconds < 3


def test_oversized_answer_batch_is_refused_from_its_length(server: LiveServer,
                                                           token: str) -> None:
    head = ("POST /api/v1/attempt/answers HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {ANSWERS_LIMIT + 1}\r\n\r\n")
    response, seconds = _raw_request(server, head, body=b"{")
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert seconds < 3


def test_chunked_body_is_cut_off_at_the_limit(api: Api, token: str) -> None:
    def chunks():  # no Content-Length: counted while it streams
        yield b'{"answers": ['
        for _ in range(ANSWERS_LIMIT // (1024 * 1024) + 2):
            yield b" " * (1024 * 1024)
        yield b"]}"

    response = api.session.post(api.server.api("/attempt/answers"), data=chunks(),
                                headers={"Authorization": f"Bearer {token}",
                                         "Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def test_answer_to_a_question_not_in_the_paper_is_refused(api: Api, token: str,
                                                          server: LiveServer) -> None:
    response = api.post("/attempt/answers", {"answers": [
        {"question_id": "q1", "revision": 1, "value": "A"},
        {"question_id": "no-such-question", "revision": 1, "value": "A"},
    ]}, token=token)
    assert response.status_code == 422
    assert response.json() == {"error": "unknown_question",
                               "detail": {"question_ids": ["no-such-question"]}}
    assert server.db.current_answers(_attempt_id(server, token)) == {}  # nothing merged


def _attempt_id(server: LiveServer, token: str) -> int:
    found = server.db.resolve_token(token, now_ms=server.clock.now_ms())
    assert found is not None and found.attempt_id is not None
    return found.attempt_id


# -- the upload path -----------------------------------------------------------------------

def test_upload_with_a_revoked_token_is_refused_although_cached(api: Api, token: str,
                                                                 server: LiveServer) -> None:
    ok = api.post("/attempt/answers", {"answers": [
        {"question_id": "q1", "revision": 1, "value": "A"}]}, token=token)
    assert ok.status_code == 200  # the token is now in the worker's cache
    with server.db.write() as conn:
        conn.execute(t.tokens.delete().where(t.tokens.c.token_sha256 == token_digest(token)))
    refused = api.post("/attempt/answers", {"answers": [
        {"question_id": "q1", "revision": 2, "value": "B"}]}, token=token)
    assert refused.status_code == 401
    assert server.db.current_revisions(_attempt_id_of(server)) == {"q1": 1}


def test_upload_after_a_take_over_is_refused_although_cached(api: Api, token: str,
                                                              server: LiveServer) -> None:
    ok = api.post("/attempt/answers", {"answers": [
        {"question_id": "q1", "revision": 1, "value": "A"}]}, token=token)
    assert ok.status_code == 200  # cached now
    attempt_id = _attempt_id(server, token)
    assert server.db.revoke_other_tokens(attempt_id=attempt_id,
                                         keep_client_id="pc-new").count == 1
    refused = api.post("/attempt/answers", {"answers": [
        {"question_id": "q1", "revision": 2, "value": "B"}]}, token=token)
    assert refused.status_code == 401 and refused.json()["error"] == "revoked"
    assert server.db.current_revisions(attempt_id) == {"q1": 1}


def _attempt_id_of(server: LiveServer) -> int:
    with server.db.read() as conn:
        found: int = conn.execute(select(t.attempts.c.id)).scalar_one()
    return found


def test_upload_notes_the_contact_in_the_same_transaction(api: Api, token: str,
                                                          server: LiveServer) -> None:
    server.clock.advance(ms=60_000)
    api.post("/attempt/answers", {"answers": [
        {"question_id": "q2", "revision": 1, "value": ["A"]}]}, token=token)
    attempt = server.db.get_attempt(_attempt_id(server, token))
    assert attempt is not None and attempt.last_contact_ms is not None
    assert abs(attempt.last_contact_ms - server.clock.now_ms()) < 5_000


def test_batch_with_the_same_revision_twice_keeps_the_first(api: Api, token: str,
                                                           server: LiveServer) -> None:
    response = api.post("/attempt/answers", {"answers": [
        {"question_id": "q1", "revision": 3, "value": "A"},
        {"question_id": "q1", "revision": 3, "value": "B"},
        {"question_id": "q1", "revision": 2, "value": "B"},
    ]}, token=token)
    assert response.status_code == 200
    assert sorted(map(tuple, response.json()["acked"])) == [("q1", 2), ("q1", 3), ("q1", 3)]
    attempt_id = _attempt_id(server, token)
    assert server.db.current_answers(attempt_id) == {"q1": "A"}
    assert [e.payload["rejected_value"] for e in
            server.db.events(attempt_id=attempt_id, kind="revision_conflict")] == ["B"]


# -- logins --------------------------------------------------------------------------------

def test_admin_login_is_throttled_per_account(api: Api, server: LiveServer) -> None:
    for _ in range(MAX_FAILURES):
        wrong = api.post("/admin/login", {"username": "admin", "password": "guess"})
        assert wrong.status_code == 401
    right = api.post("/admin/login", {"username": "admin",
                                      "password": api.demo.admin_password})
    assert right.status_code == 429
    assert right.json()["error"] == "too_many_attempts"
    assert int(right.headers["Retry-After"]) >= 1
    web = api.session.post(f"{server.url}/admin/login", allow_redirects=False, timeout=10,
                           data={"username": "admin", "password": api.demo.admin_password})
    assert web.status_code == 429 and "Retry-After" in web.headers
    server.clock.advance(ms=int(right.headers["Retry-After"]) * 1000 + 1000)
    again = api.post("/admin/login", {"username": "admin", "password": api.demo.admin_password})
    assert again.status_code == 200


def test_concurrent_admin_guesses_get_no_more_than_the_limit(api: Api,
                                                             server: LiveServer) -> None:
    """Guesses sent at once: each is counted before the next password is checked (the
    admin throttle was check-then-count: every guess of a burst passed the check while the
    others' argon2 hashes ran)."""
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(
            lambda i: requests.post(server.api("/admin/login"), timeout=60, json={
                "username": "admin", "password": f"guess-{i}"}).status_code,
            range(12)))
    assert codes.count(401) <= MAX_FAILURES, codes
    assert api.post("/admin/login", {"username": "admin",
                                     "password": api.demo.admin_password}).status_code == 429


def test_reserve_is_atomic_across_threads(server: LiveServer) -> None:
    """On either engine, many tries at once get exactly the limit's worth of slots."""
    now = server.clock.now_ms()
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        verdicts = list(pool.map(
            lambda i: staff_throttle.reserve(server.db, area="console", username="racer",
                                             address=f"192.0.2.{i}", now_ms=now),
            range(30)))
    assert sum(v.allowed for v in verdicts) == MAX_FAILURES
    refused = [v for v in verdicts if not v.allowed]
    assert all(v.retry_after_s == staff_throttle.WINDOW_MS // 1000 for v in refused)


def test_staff_logins_share_an_address_count(tmp_path: Path, paper_source: Path,
                                             database_url: str) -> None:
    """A guesser who moves from the console's login to the admin's keeps his count."""
    with live_server(tmp_path / "data", demo_paper=paper_source, trust_proxy=True,
                     database_url=database_url or None) as live:
        assert live.demo is not None
        address = {"X-Forwarded-For": "203.0.113.9", "Origin": live.url}
        for n in range(staff_throttle.MAX_FAILURES_PER_ADDRESS):
            console = requests.post(f"{live.url}/console/login", timeout=10, headers=address,
                                    data={"username": f"p{n}", "password": "guess"},
                                    allow_redirects=False)
            assert console.status_code == 401, console.status_code
        admin = requests.post(live.api("/admin/login"), timeout=10, headers=address,
                              json={"username": "admin", "password": live.demo.admin_password})
        assert admin.status_code == 429


def test_admin_login_is_throttled_per_address(tmp_path: Path, paper_source: Path,
                                              database_url: str) -> None:
    with live_server(tmp_path / "data", demo_paper=paper_source, trust_proxy=True,
                     database_url=database_url or None) as live:
        assert live.demo is not None

        def post(username: str, password: str, address: str) -> requests.Response:
            return requests.post(live.api("/admin/login"), timeout=10,
                                 json={"username": username, "password": password},
                                 headers={"X-Forwarded-For": address})

        # One guesser tries many account names from one address...
        for n in range(20):
            assert post(f"user{n}", "guess", "203.0.113.5").status_code == 401
        assert post("admin", live.demo.admin_password, "203.0.113.5").status_code == 429
        # ...the admin elsewhere is not locked out.
        assert post("admin", live.demo.admin_password, "198.51.100.7").status_code == 200


def test_logins_beyond_the_queue_get_429_with_retry_after(tmp_path: Path, paper_source: Path,
                                                          database_url: str) -> None:
    with live_server(tmp_path / "data", demo_paper=paper_source, login_slots=1,
                     login_max_wait_s=0.01, database_url=database_url or None) as live:
        assert live.demo is not None
        demo = live.demo
        results: list[requests.Response] = []

        def login() -> None:
            results.append(requests.post(live.api("/login"), timeout=30, json={
                "username": demo.username, "password": demo.password, "client_id": "pc"}))

        threads = [threading.Thread(target=login) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    statuses = sorted(r.status_code for r in results)
    assert 429 in statuses and statuses[0] != 429, statuses
    busy = next(r for r in results if r.status_code == 429)
    assert busy.json()["error"] == "busy" and int(busy.headers["Retry-After"]) >= 1
    assert set(statuses) <= {200, 409, 429}  # 409: the same candidate's second login


# Every endpoint that verifies a password (an argon2 hash), listed here on purpose: a new
# one missing from server/login_gate.LOGIN_PATHS would bypass the gate.
PASSWORD_FORMS = ["/api/v1/login", "/api/v1/admin/login", "/admin/login", "/console/login"]


def test_every_password_form_queues_at_the_login_gate(tmp_path: Path, paper_source: Path,
                                                     database_url: str) -> None:
    with (live_server(tmp_path / "data", demo_paper=paper_source, login_slots=1,
                      login_max_wait_s=0.01, database_url=database_url or None) as live,
          login_gate_full(live)):  # logins waiting for the busy hashing thread
        deadline = time.monotonic() + 10
        while requests.post(live.api("/login"), json={}, timeout=5).status_code != 429:
            assert time.monotonic() < deadline, "the held logins never reached the gate"
            time.sleep(0.05)
        for path in PASSWORD_FORMS:
            response = requests.post(f"{live.url}{path}", timeout=5,
                                     data={"username": "admin", "password": "guess"})
            assert response.status_code == 429, (path, response.status_code)
            assert response.headers["Retry-After"]


# -- one sweeper per farm ------------------------------------------------------------------

def test_exactly_one_process_leads(server: LiveServer) -> None:
    db = Database(server.db.url)
    try:
        first = Leadership(db, "unit-job", lease_ms=60_000)
        second = Leadership(db, "unit-job", lease_ms=60_000)
        now = server.clock.now_ms()
        assert first.try_lead(now_ms=now) and first.try_lead(now_ms=now + 1)
        assert not second.try_lead(now_ms=now + 2)
        first.release()  # a stopped (or, on PostgreSQL, disconnected) leader hands over
        assert second.try_lead(now_ms=now + 3)
        assert not first.try_lead(now_ms=now + 4)
        second.release()
    finally:
        db.close()


def test_two_workers_on_one_database_run_one_sweeper(tmp_path: Path, paper_source: Path,
                                                     database_url: str) -> None:
    url = database_url or f"sqlite:///{tmp_path / 'farm.db'}"
    with (live_server(tmp_path / "a", demo_paper=paper_source, sweep_interval_s=0.05,
                      database_url=url) as a,
          live_server(tmp_path / "b", demo=False, sweep_interval_s=0.05,
                      database_url=url) as b):
        deadline = time.monotonic() + 10
        while a.app.state.sweeps + b.app.state.sweeps < 10:
            assert time.monotonic() < deadline, "the sweeper did not run"
            time.sleep(0.05)
        counts = sorted((a.app.state.sweeps, b.app.state.sweeps))
    assert counts[0] == 0 and counts[1] >= 10, counts


# -- schema --------------------------------------------------------------------------------

def test_a_version_1_database_is_migrated(tmp_path: Path, database_url: str) -> None:
    url = database_url or f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    old_tables = [table for name, table in t.metadata.tables.items()
                  if name != "leases"]
    t.metadata.create_all(engine, tables=old_tables)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_tokens_attempt"))
        conn.execute(t.schema_version.insert().values(version=1))
    engine.dispose()
    db = Database(url)
    try:
        db.init_schema()
        db.init_schema()  # a second start (another worker) changes nothing
        assert db.schema_version() == t.SCHEMA_VERSION == 3
        found = inspect(db.engine)
        assert "ix_tokens_attempt" in {i["name"] for i in found.get_indexes("tokens")}
        assert "leases" in set(found.get_table_names())
    finally:
        db.close()


def test_a_version_2_database_gets_the_real_name_columns(tmp_path: Path,
                                                         database_url: str) -> None:
    """Schema 3 (staff by real name): admins.real_name and console_audit.actor_name are
    added to tables that already hold rows; those rows read as 未登记实名."""
    from server.console import tables as ct
    from server.console.audit import actor_label, entries
    from server.console.roles import Account, Role

    url = database_url or f"sqlite:///{tmp_path / 'v2.db'}"
    engine = create_engine(url)
    t.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE admins DROP COLUMN real_name"))
        conn.execute(text("ALTER TABLE console_audit DROP COLUMN actor_name"))
        conn.execute(text("INSERT INTO admins (username, password_hash) VALUES ('old', 'x')"))
        conn.execute(text("INSERT INTO console_audit (at_ms, actor, role, action, reason, "
                          "detail) VALUES (1, 'wang', 'proctor', 'log_in', '', '{}')"))
        conn.execute(t.schema_version.insert().values(version=2))
    engine.dispose()
    db = Database(url)
    try:
        db.init_schema()
        db.init_schema()  # a second start changes nothing
        assert db.schema_version() == 3
        found = inspect(db.engine)
        assert "real_name" in {c["name"] for c in found.get_columns("admins")}
        assert "actor_name" in {c["name"] for c in found.get_columns("console_audit")}
        admin = db.get_admin("old")
        assert admin is not None and admin.real_name is None
        assert admin.signature == "未登记实名（平台管理员，old）"
        platform = Account(username="root", display_name="周敏", role=Role.ADMIN,
                           center_id=None, room=None)
        [old_row] = entries(db, platform)
        assert actor_label(old_row) == "未登记实名（wang）"
        with db.write() as conn:
            conn.execute(ct.audit.insert().values(at_ms=2, actor="root", actor_name="周敏",
                                                  role="admin", action="log_in"))
        assert actor_label(entries(db, platform)[0]) == "周敏（root）"
    finally:
        db.close()


@pytest.mark.parametrize("workers", [3])
def test_workers_starting_at_once_create_the_schema_once(tmp_path: Path, database_url: str,
                                                         workers: int) -> None:
    url = database_url or f"sqlite:///{tmp_path / 'fresh.db'}"
    errors: list[BaseException] = []

    def start() -> None:
        db = Database(url)
        try:
            db.init_schema()
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=start) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db = Database(url)
    with db.read() as conn:
        versions = conn.execute(select(t.schema_version.c.version)).scalars().all()
    db.close()
    assert versions == [t.SCHEMA_VERSION]


def test_older_costlier_candidate_hash_is_replaced_at_login(api: Api,
                                                            server: LiveServer) -> None:
    from argon2 import PasswordHasher

    candidate = server.db.find_candidate(student_no=api.demo.username)
    assert candidate is not None
    old = PasswordHasher(memory_cost=65_536, time_cost=3, parallelism=4).hash(api.demo.password)
    server.db.update_candidate(candidate.id, password_hash=old)
    assert api.login().status_code == 200
    renewed = server.db.get_candidate(candidate.id)
    assert renewed is not None
    assert renewed.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert api.login(client_id="test-pc-01").status_code == 200  # the new hash verifies
