"""Answer values per question type: what is valid, and the one stored form of each.

The JSON shapes are fixed in docs/contracts.md ("Paper"); ``None`` means "no answer".
The UI normalises before saving, the server validates what it receives, and scoring reads
the normalised form, so an answer means the same thing everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from client.errors import UserFacingError
from client.i18n import _
from client.paper.values import JsonValue, QuestionType

if TYPE_CHECKING:
    from client.paper.model import Item

# An essay without max_length still has a ceiling: a paste of a whole book is a mistake.
ESSAY_HARD_LIMIT = 100_000


def _invalid(item: Item, problem: str, value: JsonValue) -> UserFacingError:
    return UserFacingError(
        "paper.answer_invalid",
        _("题目 {item} 的答案格式不正确：{problem}").format(item=item.id, problem=problem),
        item=item.id,
        type=item.type.value,
        value=repr(value)[:200],
    )


def _check_length(item: Item, text: str, value: JsonValue) -> None:
    limit = item.max_length if item.max_length is not None else ESSAY_HARD_LIMIT
    if len(text) > limit:
        raise _invalid(item, _("超过字数上限 {limit}").format(limit=limit), value)


def validate_answer(item: Item, value: JsonValue) -> None:
    """Raise UserFacingError("paper.answer_invalid") unless *value* fits *item*'s type."""
    if value is None:
        return
    kind = item.type
    if kind is QuestionType.SINGLE:
        if not isinstance(value, str):
            raise _invalid(item, _("应为一个选项编号"), value)
        if value not in item.option_ids:
            raise _invalid(item, _("选项 {option} 不存在").format(option=value), value)
    elif kind is QuestionType.MULTIPLE:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _invalid(item, _("应为选项编号的列表"), value)
        for option in value:
            if option not in item.option_ids:
                raise _invalid(item, _("选项 {option} 不存在").format(option=option), value)
        if len(set(map(str, value))) != len(value):
            raise _invalid(item, _("选项不能重复"), value)
    elif kind is QuestionType.TRUE_FALSE:
        if not isinstance(value, bool):
            raise _invalid(item, _("应为 true 或 false"), value)
    elif kind is QuestionType.FILL_BLANK:
        if (not isinstance(value, list) or len(value) != item.blanks
                or not all(isinstance(v, str) for v in value)):
            raise _invalid(item, _("应为每空一个文本的列表，共 {blanks} 空").format(
                blanks=item.blanks), value)
        for blank in value:
            _check_length(item, str(blank), value)
    elif kind is QuestionType.ESSAY:
        if not isinstance(value, str):
            raise _invalid(item, _("应为文本"), value)
        _check_length(item, value, value)


def normalise_answer(item: Item, value: JsonValue) -> JsonValue:
    """The stored form of a valid answer (raises like ``validate_answer`` otherwise).

    multiple: sorted option ids; fill_blank: each blank stripped; essay: ``\\n`` line ends.
    An answer that says nothing (no option ticked, all blanks or the essay empty) is None.
    """
    kind = item.type
    if kind is QuestionType.MULTIPLE and isinstance(value, list):
        value = sorted(value, key=str) if value else None
    elif kind is QuestionType.FILL_BLANK and isinstance(value, list):
        blanks = [v.strip() if isinstance(v, str) else v for v in value]
        value = None if all(v == "" for v in blanks) else blanks
    elif kind is QuestionType.ESSAY and isinstance(value, str):
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        if not value.strip():
            value = None
    validate_answer(item, value)
    return value
