from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from client.export.naming import offline_file_name

BEIJING = timezone(timedelta(hours=8))


def test_name_has_exam_candidate_and_the_exam_time_zone_by_default():
    # A lab PC imaged with its clock zone at UTC still names files in Beijing time.
    at = int(datetime(2024, 6, 15, 2, 30, 5, tzinfo=UTC).timestamp() * 1000)
    name = offline_file_name(exam_id="2024S-MATH01", candidate_no="2024000001", at_ms=at)
    assert name == "2024S-MATH01_2024000001_20240615-103005+0800.examans"


def test_name_has_exam_candidate_and_local_time():
    at = int(datetime(2024, 6, 15, 2, 30, 5, tzinfo=UTC).timestamp() * 1000)
    name = offline_file_name(exam_id="2024S-MATH01", candidate_no="2024000001", at_ms=at,
                             tz=BEIJING)
    assert name == "2024S-MATH01_2024000001_20240615-103005+0800.examans"


def test_unsafe_characters_are_replaced_and_parts_stay_separable():
    name = offline_file_name(exam_id="期末/考试 A_1", candidate_no="A123456(7)", at_ms=0,
                             tz=UTC)
    assert name == "A-1_A123456-7_19700101-000000+0000.examans"
    assert name.count("_") == 2
    assert all(c.isascii() for c in name)


def test_empty_parts_do_not_vanish():
    assert offline_file_name(exam_id="考试", candidate_no="", at_ms=0, tz=UTC).startswith("x_x_")
