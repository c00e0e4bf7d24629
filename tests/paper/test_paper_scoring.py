"""Objective scoring of every question type."""

from __future__ import annotations

from typing import Any

import pytest
from paper_samples import sample_document, sample_media

from client.errors import UserFacingError
from client.paper.model import Paper
from client.paper.scoring import normalise_blank, score_answers, score_item


@pytest.fixture(scope="module")
def paper() -> Paper:
    return Paper.from_source(sample_document(), sample_media())


@pytest.mark.parametrize(("item_id", "value", "points"), [
    ("q1", "B", 2.0), ("q1", "A", 0.0), ("q1", None, 0.0), ("q1", "nonsense", 0.0),
    ("q1", ["B"], 0.0),
    ("q2", ["A", "D"], 3.0), ("q2", ["D", "A"], 3.0), ("q2", ["A"], 0.0),
    ("q2", ["A", "C", "D"], 0.0), ("q2", [], 0.0),
    ("q4", True, 1.0), ("q4", False, 0.0), ("q4", 1, 0.0), ("q4", "true", 0.0),
    ("q5", ["北京", "上海"], 4.0),
    ("q5", ["beijing", "上海"], 4.0),          # case-insensitive variant
    ("q5", ["ＢＥＩＪＩＮＧ　", " 上海 "], 4.0),   # full-width letters and spaces (NFKC)
    ("q5", ["北京", "广州"], 2.0),              # one of two blanks: half the score
    ("q5", ["", "上海"], 2.0),
    ("q5", ["南京", "广州"], 0.0),
    ("q5", ["北京"], 0.0),                     # wrong shape scores nothing, never raises
])
def test_score_item(paper: Paper, item_id: str, value: Any, points: float) -> None:
    assert score_item(paper.item(item_id), value) == points


def test_essay_is_not_auto_scored(paper: Paper) -> None:
    assert score_item(paper.item("q6"), "一篇好文章") is None


def test_score_answers(paper: Paper) -> None:
    report = score_answers(paper, {"q1": "B", "q2": ["A"], "q4": True,
                                   "q5": ["Beijing", "深圳"], "q6": "文字", "unknown": "A"})
    assert report.per_item == {"q1": 2.0, "q2": 0.0, "q3": 0.0, "q4": 1.0, "q5": 2.0,
                               "q6": None}
    assert report.total == 5.0
    assert report.max_objective == 12.0
    assert report.unscored_items == ("q6",)


def test_three_blank_shares_add_up() -> None:
    document = sample_document()
    item = document["sections"][1]["items"][1]
    item.update(blanks=3, score=1, key=[["a"], ["b"], ["c"]])
    paper = Paper.from_source(document, sample_media())
    assert score_item(paper.item("q5"), ["a", "b", "c"]) == 1.0
    assert score_item(paper.item("q5"), ["a", "x", "c"]) == pytest.approx(2 / 3)


def test_paper_without_keys_cannot_be_scored(paper: Paper) -> None:
    with pytest.raises(UserFacingError) as caught:
        score_answers(paper.without_keys(), {"q1": "B"})
    assert caught.value.code == "paper.keys_missing"


def test_normalise_blank() -> None:
    assert normalise_blank("  ＡＢｃ　") == "abc"
    assert normalise_blank("Straße") == normalise_blank("STRASSE")


def test_scoring_imports_nothing_heavy() -> None:
    import subprocess
    import sys

    code = ("import sys, client.paper.scoring; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'shiboken6', 'cryptography', 'numpy', 'cv2')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
