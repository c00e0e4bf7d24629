"""POST /api/v1/attempt/session-key: proof of possession, idempotence, conflicts."""

from __future__ import annotations

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from offline_helpers import sit

from client.export.offline_file import key_id, raw_public_bytes
from client.export.session_key import registration_body
from server.api_admin import authorize_login
from server.offline_import import find_client_key


def test_register_is_idempotent_and_bound_to_the_attempt(srv):
    alice = sit(srv, register=False)
    first = alice.register_key()
    assert first.status_code == 200
    assert first.json()["key_id"] == key_id(raw_public_bytes(alice.key.public_key()))
    assert alice.register_key().json() == first.json()
    stored = find_client_key(srv.db, raw_public_bytes(alice.key.public_key()))
    assert stored is not None and stored.client_id == "pc-01"


def test_a_second_pc_gets_its_own_key(srv):
    alice = sit(srv)
    # A second PC needs an approval (second-login rule, docs/offline.md).
    authorize_login(srv.db, exam_id=srv.demo.exam_id, who=srv.demo.username,
                    approved_by="test", now_ms=srv.clock.now_ms())
    moved = sit(srv, client_id="pc-07")  # the same candidate after moving to another PC
    assert moved.key != alice.key
    assert find_client_key(srv.db, raw_public_bytes(moved.key.public_key())) is not None


def test_someone_elses_key_cannot_be_registered(srv):
    alice, bob = sit(srv, 0), sit(srv, 1, client_id="pc-02")
    # Bob replays Alice's registration body (public key + her proof) under his own token.
    body = registration_body(alice.key, exam_id=alice.exam_id, candidate_id=alice.candidate_id,
                             client_id=alice.client_id)
    response = requests.post(srv.api("/attempt/session-key"), json=body, headers=bob.headers(),
                             timeout=10)
    assert response.status_code == 400 and response.json()["error"] == "bad_key_proof"


def test_key_in_use_by_another_attempt(srv):
    alice, bob = sit(srv, 0), sit(srv, 1, client_id="pc-02", register=False)
    bob.key = alice.key  # the same key, properly signed for Bob: still refused
    response = bob.register_key()
    assert response.status_code == 409 and response.json()["error"] == "key_in_use"


def test_no_registration_after_the_end(srv):
    alice = sit(srv, register=False)
    srv.clock.advance(ms=alice.end_ms - srv.clock.now_ms() + 1000)
    alice.key = Ed25519PrivateKey.generate()
    response = alice.register_key()
    assert response.status_code == 409 and response.json()["error"] == "exam_ended"


def test_candidate_token_required(srv):
    alice = sit(srv, register=False)
    body = registration_body(alice.key, exam_id=alice.exam_id, candidate_id=alice.candidate_id,
                             client_id=alice.client_id)
    assert requests.post(srv.api("/attempt/session-key"), json=body,
                         timeout=10).status_code == 401
