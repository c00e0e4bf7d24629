"""The vocabulary shared by the paper model, answer values and scoring."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeAlias

# What json.loads can return; answer values and keys are JSON (docs/contracts.md, "Paper").
JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"


class QuestionType(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"
    FILL_BLANK = "fill_blank"
    ESSAY = "essay"

    @property
    def has_options(self) -> bool:
        return self in (QuestionType.SINGLE, QuestionType.MULTIPLE)

    @property
    def is_objective(self) -> bool:
        """Scored by the machine against a key (essays are read by a person)."""
        return self is not QuestionType.ESSAY
