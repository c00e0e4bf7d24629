from __future__ import annotations

import json

import pytest
from proctor_samples import FAST_HASHER

from client.errors import UserFacingError
from client.proctor.verifiers import (
    VERIFIERS_EXTRA_KEY,
    ProctorIdentity,
    ProctorVerifier,
    create_verifier,
    verifiers_from_extra,
    verifiers_to_extra,
)


def test_right_name_and_password_unlock(verifiers):
    assert verifiers.check(name="王老师", password="Kq7-m2Lx9") == ProctorIdentity("p1", "王老师")
    assert verifiers.check(name="  li ming ", password="second-pw") == ProctorIdentity(
        "p2", "Li Ming")


@pytest.mark.parametrize(("name", "password"), [
    ("王老师", "kq7-m2lx9"), ("王老师", ""), ("李老师", "Kq7-m2Lx9"), ("Li Ming", "Kq7-m2Lx9"),
])
def test_wrong_credentials(verifiers, name, password):
    assert verifiers.check(name=name, password=password) is None


def test_full_width_name_is_normalized(verifiers):
    assert verifiers.check(name="Ｌｉ Ｍｉｎｇ", password="second-pw") is not None


def test_verifier_is_salted_argon2id_and_holds_no_password():
    a = create_verifier(proctor_id="p", name="n", password="same-password", hasher=FAST_HASHER)
    b = create_verifier(proctor_id="p", name="n", password="same-password", hasher=FAST_HASHER)
    assert a.encoded_hash.startswith("$argon2id$") and a.encoded_hash != b.encoded_hash
    assert "same-password" not in a.encoded_hash


def test_round_trip_through_the_package_extra_header():
    extra = verifiers_to_extra([create_verifier(proctor_id="p9", name="赵老师", password="pw-1",
                                                hasher=FAST_HASHER)])
    extra = json.loads(json.dumps(extra))  # as it travels in the package header
    restored = verifiers_from_extra({"other": 1, **extra})
    assert len(restored) == 1
    assert restored.check(name="赵老师", password="pw-1") == ProctorIdentity("p9", "赵老师")


@pytest.mark.parametrize("extra", [
    {}, {VERIFIERS_EXTRA_KEY: []}, {VERIFIERS_EXTRA_KEY: "x"}, {VERIFIERS_EXTRA_KEY: [1]},
    {VERIFIERS_EXTRA_KEY: [{"proctor_id": "p", "name": "n"}]},
])
def test_missing_or_malformed_verifiers_are_a_clear_error(extra):
    with pytest.raises(UserFacingError) as err:
        verifiers_from_extra(extra)
    assert err.value.code == "proctor.verifiers_invalid"


def test_non_argon2id_hashes_are_refused():
    import hashlib
    weak = ProctorVerifier("p", "n", hashlib.sha256(b"pw").hexdigest())
    with pytest.raises(UserFacingError):
        verifiers_from_extra({VERIFIERS_EXTRA_KEY: [weak.to_json()]})


def test_empty_password_cannot_be_created():
    with pytest.raises(ValueError):
        create_verifier(proctor_id="p", name="n", password="")


def test_verifiers_travel_in_a_signed_package_header():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from client.paper.package import build_package, verify_package
    from client.paper.source import PaperSource
    from client.resources import resource_path

    signing = Ed25519PrivateKey.generate()
    extra = verifiers_to_extra([create_verifier(proctor_id="p1", name="王老师",
                                                password="Kq7-m2Lx9", hasher=FAST_HASHER)])
    data = build_package(source=PaperSource.from_path(resource_path("demo", "paper")),
                         exam_id="demo-exam", paper_key=bytes(32), signing_key=signing,
                         extra_header=extra)
    header = verify_package(data, trusted_key=signing.public_key(), expected_exam_id="demo-exam")
    assert verifiers_from_extra(header.extra).check(name="王老师", password="Kq7-m2Lx9") == \
        ProctorIdentity("p1", "王老师")
