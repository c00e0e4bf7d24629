"""Objective scoring of answer values against the keys (docs/contracts.md, "Paper").

| type       | full score when                                                    |
|------------|--------------------------------------------------------------------|
| single     | the chosen option is the key                                       |
| multiple   | the set of chosen options is exactly the key's set (no partial)    |
| true_false | the value is the key                                               |
| fill_blank | per blank: score / blanks when the text matches an accepted variant |
|            | after NFKC + strip + casefold (full-width "ＡＢ " matches "ab")     |
| essay      | never: read by a person, reported as None                          |

Used by the reference server to compute results, so it imports nothing heavy (no Qt, no
cryptography). A value that is not a valid answer for its item scores 0, never raises:
the server scores what candidates sent, whatever it is.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from client.errors import UserFacingError
from client.i18n import _
from client.paper.answers import validate_answer
from client.paper.model import Item, Paper
from client.paper.values import JsonValue, QuestionType


@dataclass(frozen=True)
class ScoreReport:
    total: float  # objective points earned
    max_objective: float  # points the machine can award (essays excluded)
    per_item: Mapping[str, float | None]  # every item of the paper; None = not auto-scored

    @property
    def unscored_items(self) -> tuple[str, ...]:
        """Items that need a person (essays): the result stays pending until they are read."""
        return tuple(item_id for item_id, points in self.per_item.items() if points is None)


def normalise_blank(text: str) -> str:
    """The form in which a fill-in answer is compared with the accepted variants."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def score_item(item: Item, value: JsonValue) -> float | None:
    """Points for *value* on *item*; None for an item that is not scored automatically."""
    if not item.is_objective:
        return None
    if item.key is None:
        raise UserFacingError(
            "paper.keys_missing",
            _("该试卷不含标准答案，无法自动评分。请使用导入的原始试卷评分。"),
            item=item.id,
        )
    if value is None:
        return 0.0
    try:
        validate_answer(item, value)
    except UserFacingError:
        return 0.0
    kind = item.type
    if kind is QuestionType.MULTIPLE:
        assert isinstance(value, list) and isinstance(item.key, list)
        return item.score if set(map(str, value)) == set(map(str, item.key)) else 0.0
    if kind is QuestionType.FILL_BLANK:
        assert isinstance(value, list) and isinstance(item.key, list)
        correct = 0
        for given, accepted in zip(value, item.key, strict=True):
            assert isinstance(given, str) and isinstance(accepted, list)
            if normalise_blank(given) in {normalise_blank(str(v)) for v in accepted}:
                correct += 1
        return item.score * correct / item.blanks
    # single and true_false: exact equality (validate_answer already checked the JSON type,
    # so True never equals an option id and 1 never equals True)
    return item.score if value == item.key else 0.0


def score_answers(paper: Paper, answers: Mapping[str, JsonValue]) -> ScoreReport:
    """Score *answers* (question id -> value) on *paper*; unknown ids are ignored.

    Raises UserFacingError("paper.keys_missing") for a paper without keys (a package copy).
    """
    per_item: dict[str, float | None] = {
        item.id: score_item(item, answers.get(item.id)) for item in paper.items()
    }
    return ScoreReport(
        total=math.fsum(points for points in per_item.values() if points is not None),
        max_objective=math.fsum(item.score for item in paper.items() if item.is_objective),
        per_item=per_item,
    )
