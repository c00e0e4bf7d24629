"""The offline formats: typed codes, second-login codes and their offline digests, the
start-code wrap and the offline login verifiers of the package header."""

from __future__ import annotations

import os

import pytest

from client.errors import UserFacingError
from client.session.authorization import (
    WINDOW_MS,
    CodeVerifiers,
    authorization_code,
    check_with_secret,
    current_code,
    exam_windows,
    new_proctor_secret,
    valid_until_ms,
    window_of,
)
from client.session.codes import CodeFormatError, encode_bits, format_code, normalize_code
from client.session.kdf import Argon2Params
from client.session.offline_header import (
    ExamFacts,
    OfflineCandidate,
    OfflineMaterial,
    build_offline_extra,
    wrap_paper_key,
)
from server.passwords import hash_password

SECRET = "ABCD-EFGH-JKMN-PQRS"
START_MS = 1_750_000_000_000
END_MS = START_MS + 2 * 3600_000


def test_typed_codes_are_forgiving_and_strict() -> None:
    assert normalize_code(" abcd-efgh ") == "ABCDEFGH"
    assert normalize_code("ＡＢ１２") == "AB12"  # full-width from a Chinese input method
    assert normalize_code("O0-Il") == "0011"  # letters people mistake for digits
    for bad in ("", "--", "ABCU", "ab*c"):
        with pytest.raises(CodeFormatError):
            normalize_code(bad)
    assert format_code("ABCDEFGHJKMN") == "ABCD-EFGH-JKMN"
    assert encode_bits(b"\xff\xff", 3) == "ZZZ" and encode_bits(b"\x00\x00", 3) == "000"
    assert len(normalize_code(new_proctor_secret())) == 16


def test_codes_are_bound_to_candidate_exam_and_window() -> None:
    window = window_of(START_MS + 30 * 60_000)
    code = authorization_code(proctor_secret=SECRET, exam_id="e1", student_no="2024001",
                              window=window)
    assert len(code) == 8 and code == authorization_code(
        proctor_secret=SECRET.lower(), exam_id="e1", student_no=" 2024001 ", window=window)
    others = {authorization_code(proctor_secret=SECRET, exam_id="e2", student_no="2024001",
                                 window=window),
              authorization_code(proctor_secret=SECRET, exam_id="e1", student_no="2024002",
                                 window=window),
              authorization_code(proctor_secret=SECRET, exam_id="e1", student_no="2024001",
                                 window=window + 1),
              authorization_code(proctor_secret="ZZZZ-ZZZZ-ZZZZ-ZZZZ", exam_id="e1",
                                 student_no="2024001", window=window)}
    assert code not in others and len(others) == 4
    now = window * WINDOW_MS + 1
    assert check_with_secret(code, proctor_secret=SECRET, exam_id="e1", student_no="2024001",
                             now_ms=now) == window
    # accepted in its window and the next one, then expired
    assert check_with_secret(code, proctor_secret=SECRET, exam_id="e1", student_no="2024001",
                             now_ms=now + WINDOW_MS) == window
    assert check_with_secret(code, proctor_secret=SECRET, exam_id="e1", student_no="2024001",
                             now_ms=now + 2 * WINDOW_MS) is None
    assert valid_until_ms(window) == (window + 2) * WINDOW_MS
    shown, until = current_code(proctor_secret=SECRET, exam_id="e1", student_no="2024001",
                                now_ms=now)
    assert normalize_code(shown) == code and shown[4] == "-" and until == valid_until_ms(window)


def test_offline_digests_check_codes_without_the_secret() -> None:
    windows = exam_windows(start_ms=START_MS, end_ms=END_MS)
    assert len(windows) in (12, 13)
    fast = Argon2Params(time_cost=1, memory_kib=64)
    verifiers = CodeVerifiers.build(proctor_secret=SECRET, exam_id="e1", candidate_id="7",
                                    student_no="2024001", windows=windows, params=fast)
    doc = verifiers.to_json()
    assert SECRET not in str(doc) and "2024001" not in str(doc)
    again = CodeVerifiers.from_json(doc, exam_id="e1", candidate_id="7")
    window = windows.start + 3
    code = authorization_code(proctor_secret=SECRET, exam_id="e1", student_no="2024001",
                              window=window)
    now = window * WINDOW_MS + 5
    assert again.check(code, now_ms=now) == window
    assert again.check(code.lower(), now_ms=now + WINDOW_MS) == window
    assert again.check(code, now_ms=now + 2 * WINDOW_MS) is None  # expired
    assert again.check(code, now_ms=None) == window  # clock unknown: every exam window
    other = CodeVerifiers.from_json(doc, exam_id="e1", candidate_id="8")  # another candidate
    assert other.check(code, now_ms=now) is None
    assert again.check("ABC", now_ms=now) is None and again.check("!!", now_ms=now) is None
    assert again.check(code, now_ms=(windows.stop + 5) * WINDOW_MS) is None


def material(**overrides: object) -> OfflineMaterial:
    people = [
        OfflineCandidate(candidate_id="1", student_no="2024000001", id_number="110101199001011234",
                         name="张三", password_hash=hash_password("011234")),
        OfflineCandidate(candidate_id="2", student_no="2024000002", id_number="11010519851212002X",
                         name="李四", password_hash=hash_password("12002X")),
    ]
    paper_key = overrides.get("paper_key", os.urandom(32))
    assert isinstance(paper_key, bytes)
    extra = build_offline_extra(
        exam=ExamFacts("e1", "期末考试", START_MS, END_MS), candidates=people,
        code_verifiers={}, start_code_wrap=wrap_paper_key(paper_key, start_code="ABCD-EFGH-JKMN",
                                                          exam_id="e1"))
    found = OfflineMaterial.from_extra({"offline": extra}, exam_id="e1")
    assert found is not None
    return found


def test_login_verifiers_find_the_candidate_by_student_or_id_number() -> None:
    found = material()
    assert found.exam == ExamFacts("e1", "期末考试", START_MS, END_MS)
    zhang = found.find_login("2024000001", "011234")
    assert zhang is not None and (zhang.candidate_id, zhang.name) == ("1", "张三")
    li = found.find_login("11010519851212002x", "12002X")  # lower-case x as typed
    assert li is not None and li.student_no == "2024000002"
    assert found.find_login("11010519851212002X", "12002x") is None  # password as typed
    assert found.find_login("2024000001", "000000") is None
    assert found.find_login("nobody", "011234") is None


def test_the_header_holds_no_names_numbers_or_passwords() -> None:
    import json

    paper_key = os.urandom(32)
    extra = build_offline_extra(
        exam=ExamFacts("e1", "期末考试", START_MS, END_MS),
        candidates=[OfflineCandidate("1", "2024000001", "110101199001011234", "张三",
                                     hash_password("011234"))],
        code_verifiers={}, start_code_wrap=wrap_paper_key(paper_key, start_code="ABCDEFGHJKMN",
                                                          exam_id="e1"))
    text = json.dumps(extra, ensure_ascii=False)
    for secret in ("2024000001", "110101199001011234", "张三", "011234", "argon2id$",
                   "ABCDEFGHJKMN", paper_key.hex()):
        assert secret not in text


def test_only_the_start_code_opens_the_paper_key() -> None:
    paper_key = os.urandom(32)
    found = material(paper_key=paper_key)
    assert found.open_paper_key("abcd efgh jkmn") == paper_key
    assert found.open_paper_key("ABCD-EFGH-JKMP") is None
    assert found.open_paper_key("not a code!") is None


def test_a_damaged_offline_entry_is_a_clear_error() -> None:
    assert OfflineMaterial.from_extra({}, exam_id="e1") is None  # older server: no entry
    with pytest.raises(UserFacingError) as bad:
        OfflineMaterial.from_extra({"offline": {"version": 99}}, exam_id="e1")
    assert bad.value.code == "offline.header_invalid"
