"""The login attack set (issue 18): a dishonest candidate with a writing token, an outsider
on the exam LAN flooding the login gate, a careless deployment. Each attack runs against
a real server on 127.0.0.1 over real HTTP (SQLite, and PostgreSQL when
EXAM_SERVER_TEST_POSTGRES_URL is set); a test passes when the attack is stopped.
benchmarks/login_attacks.py runs the set and prints how many got through.

A PC back with its own writing token (``resume_token`` + its ``client_id``) logs in
without the password (server/api_login.py). The token attacks check that this opens
nothing the token alone could not do: no other PC, no other candidate, no revoked or
expired token, no longer-lived token, and every other rule of a login still applies.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from argon2 import PasswordHasher

from client.paper.exam_rules import VersionFloor
from server import hash_threads, version_floor
from server.demo import DemoCandidate
from server.testing import LiveServer, live_server

ATTACKER_ADDRESS = "127.0.0.2"  # another host on the LAN (all of 127/8 is loopback)


def _login(live: LiveServer, person: DemoCandidate, *, password: str, client_id: str,
           resume_token: str = "", username: str | None = None,
           **extra: str) -> requests.Response:
    return requests.post(live.api("/login"), timeout=30, json={
        "username": username if username is not None else person.student_no,
        "password": password, "client_id": client_id, "resume_token": resume_token,
        **extra})


def _first(live: LiveServer, client_id: str = "pc-a") -> tuple[DemoCandidate, str]:
    assert live.demo is not None
    person = live.demo.candidates[0]
    response = _login(live, person, password=person.password, client_id=client_id)
    assert response.status_code == 200, response.text
    return person, str(response.json()["token"])


def _expires(live: LiveServer, token: str) -> int:
    found = live.db.resolve_token(token, now_ms=live.clock.now_ms())
    assert found is not None
    return found.expires_ms


def _attempt_id(live: LiveServer, token: str) -> int:
    found = live.db.resolve_token(token, now_ms=live.clock.now_ms())
    assert found is not None and found.attempt_id is not None
    return found.attempt_id


@pytest.fixture
def live(tmp_path: Path, paper_source: Path, database_url: str) -> Iterator[LiveServer]:
    with live_server(tmp_path / "data", demo_paper=paper_source, start_in_s=-60,
                     database_url=database_url or None) as server:
        yield server


# -- a dishonest candidate with a writing token --------------------------------------------

@pytest.mark.attack("token")
def test_a_token_stolen_from_another_pc_does_not_log_in(live: LiveServer) -> None:
    person, token = _first(live)
    stolen = _login(live, person, password="wrong", client_id="pc-thief", resume_token=token)
    assert stolen.status_code == 401, stolen.text


@pytest.mark.attack("token")
def test_a_token_replayed_after_another_pc_took_over_needs_the_proctor(
        live: LiveServer) -> None:
    person, token = _first(live)
    held = _login(live, person, password=person.password, client_id="pc-b")
    assert held.status_code == 409, held.text
    live.db.approve_login_requests(attempt_id=_attempt_id(live, token), approved_by="proctor",
                                   now_ms=live.clock.now_ms())
    took_over = _login(live, person, password=person.password, client_id="pc-b")
    assert took_over.status_code == 200, took_over.text
    replay = _login(live, person, password="wrong", client_id="pc-a", resume_token=token)
    assert replay.status_code == 401, replay.text
    # Even with the password, the old PC is now a second login: held for the proctor.
    again = _login(live, person, password=person.password, client_id="pc-a",
                   resume_token=token)
    assert again.status_code == 409, again.text


@pytest.mark.attack("token")
def test_a_token_after_submission_gets_no_more_than_the_password_would(
        live: LiveServer) -> None:
    person, token = _first(live)
    submitted = requests.post(live.api("/attempt/submit"), timeout=10, json={},
                              headers={"Authorization": f"Bearer {token}"})
    assert submitted.status_code == 200, submitted.text
    resumed = _login(live, person, password="wrong", client_id="pc-a", resume_token=token)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["attempt"]["status"] == "submitted"
    assert _expires(live, resumed.json()["token"]) <= _expires(live, token)
    # Another PC with the same token: nothing without the password.
    assert _login(live, person, password="wrong", client_id="pc-x",
                  resume_token=token).status_code == 401


@pytest.mark.attack("token")
def test_a_view_token_does_not_stand_for_the_password(live: LiveServer) -> None:
    person, token = _first(live)
    requests.post(live.api("/attempt/submit"), timeout=10, json={},
                  headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    viewer = _login(live, person, password=person.password, client_id="pc-v")
    assert viewer.status_code == 200 and not viewer.json()["attempt"]["may_write"]
    replay = _login(live, person, password="wrong", client_id="pc-v",
                    resume_token=viewer.json()["token"])
    assert replay.status_code == 401, replay.text


@pytest.mark.attack("token")
def test_a_token_after_the_proctor_ended_the_attempt_reopens_nothing(
        live: LiveServer) -> None:
    person, token = _first(live)
    attempt_id = _attempt_id(live, token)
    now = live.clock.now_ms()
    live.db.submit_attempt(attempt_id, at_ms=now)  # what the console's 结束作答 does
    resumed = _login(live, person, password="wrong", client_id="pc-a", resume_token=token)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["attempt"]["status"] == "submitted"
    assert resumed.json()["attempt"]["login_kind"] == "after_submission"
    assert _expires(live, resumed.json()["token"]) <= _expires(live, token)
    attempt = live.db.get_attempt(attempt_id)
    assert attempt is not None and attempt.is_submitted


@pytest.mark.attack("token")
def test_a_token_after_the_exam_ended_is_not_renewed(live: LiveServer) -> None:
    person, token = _first(live)
    assert live.demo is not None
    live.clock.set_now(live.demo.end_ms + 60_000)
    resumed = _login(live, person, password="wrong", client_id="pc-a", resume_token=token)
    assert resumed.status_code == 200, resumed.text  # late sync: still within the grace
    assert _expires(live, resumed.json()["token"]) <= _expires(live, token)


@pytest.mark.attack("token")
def test_an_expired_token_logs_in_nobody(live: LiveServer) -> None:
    person, token = _first(live)
    expires = _expires(live, token)
    live.clock.set_now(expires + 1_000)
    replay = _login(live, person, password="wrong", client_id="pc-a", resume_token=token)
    assert replay.status_code in (401, 403), replay.text
    assert "token" not in replay.json()


@pytest.mark.attack("token")
def test_renewing_a_token_again_and_again_never_extends_it(live: LiveServer) -> None:
    person, token = _first(live)
    first_expiry = _expires(live, token)
    for _ in range(4):
        live.clock.advance(ms=10 * 60_000)
        resumed = _login(live, person, password="", client_id="pc-a", resume_token=token)
        assert resumed.status_code == 200, resumed.text
        token = resumed.json()["token"]
        assert _expires(live, token) <= first_expiry


@pytest.mark.attack("token")
def test_candidate_a_token_does_not_log_in_candidate_b(live: LiveServer) -> None:
    _, token = _first(live)
    assert live.demo is not None
    other = live.demo.candidates[1]
    as_b = _login(live, other, password="wrong", client_id="pc-a", resume_token=token)
    assert as_b.status_code == 401, as_b.text


@pytest.mark.attack("token")
def test_a_login_without_the_password_says_so_in_the_record(live: LiveServer) -> None:
    person, token = _first(live)
    _login(live, person, password="anything", client_id="pc-a",
           resume_token=token).raise_for_status()
    logins = live.db.events(attempt_id=_attempt_id(live, token), kind="login")
    assert [e.payload.get("proved_by") for e in logins] == ["password", "resume_token"]


@pytest.mark.attack("token")
def test_a_token_does_not_skip_the_center_ip_rule(live: LiveServer) -> None:
    person, token = _first(live)
    assert live.demo is not None
    center = live.db.get_center(live.demo.center_id)
    assert center is not None
    live.db.upsert_center(center_id=center.id, name=center.name, allowed_ips=["10.9.9.9"])
    resumed = _login(live, person, password="wrong", client_id="pc-a", resume_token=token)
    assert resumed.status_code == 403 and resumed.json()["error"] == "outside_center"


@pytest.mark.attack("token")
def test_a_token_does_not_skip_the_version_floor(live: LiveServer) -> None:
    person, token = _first(live)
    assert live.demo is not None
    version_floor.set_floor(live.db, exam_id=live.demo.exam_id,
                            floor=VersionFloor(min_version="99.0"), now_ms=live.clock.now_ms())
    resumed = _login(live, person, password="wrong", client_id="pc-a", resume_token=token,
                     client_version="1.0")
    assert resumed.status_code == 403 and resumed.json()["error"] == "client_too_old"


@pytest.mark.attack("token")
def test_a_token_login_does_not_rehash_the_typed_password(live: LiveServer) -> None:
    person, token = _first(live)
    (candidate,) = live.db.candidates_by_username(person.student_no)
    # An older, costlier setting: a password login would replace it with today's.
    old = PasswordHasher(memory_cost=65_536, time_cost=3, parallelism=4).hash(person.password)
    live.db.update_candidate(candidate.id, password_hash=old)
    _login(live, person, password="attacker-choice", client_id="pc-a",
           resume_token=token).raise_for_status()
    (after,) = live.db.candidates_by_username(person.student_no)
    assert after.password_hash == old
    assert _login(live, person, password="attacker-choice",
                  client_id="pc-z").status_code == 401


# -- an outsider on the exam LAN ---------------------------------------------------------

def _post_from(address: str, url: str, body: dict[str, Any],
               timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout,
                                            source_address=(address, 0))
    try:
        connection.request("POST", parts.path, body=json.dumps(body),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@contextmanager
def _flood(live: LiveServer, body: dict[str, Any], *, senders: int) -> Iterator[list[int]]:
    """*senders* threads at ATTACKER_ADDRESS post *body* as fast as they are answered
    (ignoring Retry-After) until the block ends; yields the statuses they got."""
    stop = threading.Event()
    statuses: list[int] = []

    def send() -> None:
        # One kept-alive connection per sender, as a browser or script would: a new one
        # per request would leave thousands of sockets in TIME_WAIT and run this
        # machine out of ephemeral ports.
        parts = urlsplit(live.api("/login"))
        assert parts.hostname is not None and parts.port is not None
        connection: http.client.HTTPConnection | None = None
        while not stop.is_set():
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(
                        parts.hostname, parts.port, timeout=30,
                        source_address=(ATTACKER_ADDRESS, 0))
                connection.request("POST", parts.path, body=json.dumps(body),
                                   headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                statuses.append(response.status)
                if response.getheader("connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException):
                if connection is not None:
                    connection.close()
                connection = None
                time.sleep(0.05)
        if connection is not None:
            connection.close()

    threads = [threading.Thread(target=send, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 20
        while statuses.count(429) < senders // 4:  # the gate is full of the flood
            assert time.monotonic() < deadline, statuses[-20:]
            time.sleep(0.05)
        yield statuses
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)


@pytest.fixture
def small_gate(tmp_path: Path, paper_source: Path, database_url: str) -> Iterator[LiveServer]:
    # One hashing thread (two places) and a short queue: a flood fills it at once.
    with live_server(tmp_path / "data", demo_paper=paper_source, start_in_s=-60,
                     login_slots=1, login_max_wait_s=1.0,
                     database_url=database_url or None) as server:
        yield server


def _candidates_get_in_during(live: LiveServer, flood: dict[str, Any]) -> list[int]:
    """Candidates at other addresses log in as the client does (a 429 waits its
    Retry-After and tries again) while the flood goes on; the status each ends with
    within 30 s (the client keeps trying and tells the candidate to wait)."""
    assert live.demo is not None
    ended = []
    with _flood(live, flood, senders=64):
        for person in live.demo.candidates[1:4]:
            deadline = time.monotonic() + 30
            while True:
                response = _login(live, person, password=person.password,
                                  client_id=f"pc-{person.student_no}")
                wait = float(response.headers.get("Retry-After", "0"))
                if response.status_code != 429 or time.monotonic() + wait > deadline:
                    break
                time.sleep(wait)
            ended.append(response.status_code)
    return ended


@pytest.mark.attack("flood")
def test_a_flood_of_unknown_usernames_does_not_keep_candidates_out(
        small_gate: LiveServer) -> None:
    statuses = _candidates_get_in_during(
        small_gate, {"username": "nobody-999", "password": "x", "client_id": "bot"})
    assert len(statuses) >= 2 and set(statuses) == {200}, statuses


@pytest.mark.attack("flood")
def test_a_flood_of_wrong_passwords_does_not_keep_candidates_out(
        small_gate: LiveServer) -> None:
    assert small_gate.demo is not None
    victim = small_gate.demo.candidates[0]
    statuses = _candidates_get_in_during(
        small_gate, {"username": victim.student_no, "password": "guess", "client_id": "bot"})
    assert len(statuses) >= 2 and set(statuses) == {200}, statuses


@pytest.mark.attack("flood")
def test_slow_login_bodies_hold_no_place_at_the_gate(small_gate: LiveServer) -> None:
    address = urlsplit(small_gate.url)
    assert address.hostname is not None and address.port is not None
    holders = []
    try:
        for _ in range(8):  # four times the gate's places
            holder = socket.create_connection((address.hostname, address.port), timeout=5)
            holder.sendall(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            holders.append(holder)
        time.sleep(0.3)
        assert small_gate.demo is not None
        person = small_gate.demo.candidates[0]
        # Answered at once, not after the holders give up (the client times out at 10 s).
        response = requests.post(small_gate.api("/login"), timeout=10, json={
            "username": person.student_no, "password": person.password, "client_id": "pc-a"})
        assert response.status_code == 200, response.text
    finally:
        for holder in holders:
            holder.close()


@pytest.mark.attack("flood")
def test_a_huge_login_body_is_refused_unread(small_gate: LiveServer) -> None:
    response = requests.post(small_gate.api("/login"), timeout=10,
                             data=b"{" + b" " * (4 * 1024 * 1024) + b"}",
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 413


@pytest.mark.attack("leak")
def test_the_busy_answer_is_the_same_for_a_known_and_an_unknown_username(
        small_gate: LiveServer) -> None:
    assert small_gate.demo is not None
    known = small_gate.demo.candidates[0].student_no
    busy: dict[str, list[tuple[dict[str, str], dict[str, Any]]]] = {"known": [],
                                                                     "unknown": []}
    with _flood(small_gate, {"username": "nobody-1", "password": "x"}, senders=64):
        for _ in range(12):  # a probe that found room is answered 401/403: try again
            for kind, name in (("known", known), ("unknown", "nobody-2")):
                status, headers, body = _post_from(ATTACKER_ADDRESS, small_gate.api("/login"),
                                                   {"username": name, "password": "x"})
                if status == 429:
                    busy[kind].append((headers, json.loads(body)))
            if busy["known"] and busy["unknown"]:
                break
    assert busy["known"] and busy["unknown"], busy
    busy_list = busy["known"] + busy["unknown"]
    assert {payload["error"] for _, payload in busy_list} == {"busy"}
    assert {tuple(sorted(payload["detail"])) for _, payload in busy_list} == {("retry_after_s",)}
    assert len({tuple(sorted(h.lower() for h in headers)) for headers, _ in busy_list}) == 1


@pytest.mark.attack("leak")
def test_response_time_does_not_tell_a_known_username(live: LiveServer) -> None:
    assert live.demo is not None
    known = live.demo.candidates[0]

    def took(username: str) -> float:
        started = time.perf_counter()
        response = requests.post(live.api("/login"), timeout=30,
                                 json={"username": username, "password": "wrong"})
        assert response.status_code in (401, 403)
        return time.perf_counter() - started

    took(known.student_no), took("nobody-41")  # warm both paths up
    # Interleaved, so that the load of a shared machine falls on both alike.
    pairs = [(took(known.student_no), took("nobody-42")) for _ in range(10)]
    known_s = statistics.median(k for k, _ in pairs)
    unknown_s = statistics.median(u for _, u in pairs)
    # Both verify one argon2 hash of the same parameters (~20-30 ms of CPU): the same
    # time within the noise, never "hash" against "no hash" (a ratio of 5 or more).
    assert 1 / 3 < known_s / unknown_s < 3, (known_s, unknown_s)


# -- a careless deployment ---------------------------------------------------------------

@pytest.mark.attack("deploy")
def test_a_forged_forwarded_for_does_not_pass_the_center_ip_rule(live: LiveServer) -> None:
    # trust_proxy is off by default: a server without a proxy ignores X-Forwarded-For.
    assert live.demo is not None
    person = live.demo.candidates[0]
    center = live.db.get_center(live.demo.center_id)
    assert center is not None
    live.db.upsert_center(center_id=center.id, name=center.name, allowed_ips=["10.9.9.9"])
    response = requests.post(live.api("/login"), timeout=30,
                             headers={"X-Forwarded-For": "10.9.9.9"},
                             json={"username": person.student_no, "password": person.password,
                                   "client_id": "pc-a"})
    assert response.status_code == 403 and response.json()["error"] == "outside_center"


def _post_with_forwarded_for(address: str, url: str, forwarded_for: str,
                             body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30,
                                            source_address=(address, 0))
    try:
        connection.request("POST", parts.path, body=json.dumps(body), headers={
            "Content-Type": "application/json", "X-Forwarded-For": forwarded_for})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.attack("deploy")
def test_trust_proxy_on_a_worker_the_lan_reaches_believes_only_the_proxy(
        tmp_path: Path, paper_source: Path, database_url: str) -> None:
    # `serve --trust-proxy` listens on 0.0.0.0 by default: a PC that reaches the worker
    # directly, not through nginx, writes the center's address into X-Forwarded-For.
    with live_server(tmp_path / "data", demo_paper=paper_source, start_in_s=-60,
                     trust_proxy=True, database_url=database_url or None) as live:
        assert live.demo is not None
        person = live.demo.candidates[0]
        center = live.db.get_center(live.demo.center_id)
        assert center is not None
        live.db.upsert_center(center_id=center.id, name=center.name, allowed_ips=["10.9.9.9"])
        body = {"username": person.student_no, "password": person.password,
                "client_id": "pc-a"}
        status, answer = _post_with_forwarded_for(ATTACKER_ADDRESS, live.api("/login"),
                                                  "10.9.9.9", body)
        assert status == 403 and answer["error"] == "outside_center", answer
        assert answer["detail"]["seen_ip"] == ATTACKER_ADDRESS
        # Through the proxy (nginx on this host) the forwarded address counts.
        status, answer = _post_with_forwarded_for("127.0.0.1", live.api("/login"),
                                                  "10.9.9.9", body)
        assert status == 200, answer


@pytest.mark.attack("deploy")
def test_hashing_threads_start_where_thread_priority_cannot_be_set(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Windows has no os.setpriority / getpriority: the threads keep the process's priority
    # and still hash (the bound holds), instead of failing every login.
    for name in ("setpriority", "getpriority"):
        monkeypatch.delattr(os, name, raising=False)
    pool = hash_threads.HashThreads(threads=1)
    assert pool.run(PasswordHasher(memory_cost=8, time_cost=1, parallelism=1).hash, "x")
