"""Paper model: parsing, validation messages, serialisation, answer values."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from paper_samples import sample_document, sample_media, tiny_wav

from client.errors import UserFacingError
from client.paper.localized import LocalizedText
from client.paper.model import Paper, QuestionType, normalise_answer, validate_answer


def _paper(document: dict[str, Any] | None = None,
           media: dict[str, bytes] | None = None) -> Paper:
    return Paper.from_source(document if document is not None else sample_document(),
                             sample_media() if media is None else media)


def test_sample_paper_shape() -> None:
    paper = _paper()
    assert [item.id for item in paper.items()] == ["q1", "q2", "q3", "q4", "q5", "q6"]
    assert [section.score for section in paper.sections] == [7.0, 15.0]
    assert paper.max_score == 22.0
    assert paper.item_count == 6
    q2 = paper.item("q2")
    assert q2.type is QuestionType.MULTIPLE
    assert q2.key == ["A", "D"]  # keys are stored sorted
    assert q2.media_names() == {"fig.png"}
    audio = paper.item("q3").audio
    assert audio is not None and audio.max_plays == 2
    assert paper.item("q3").media_names() == {"clip.wav"}
    assert paper.has_keys and not paper.without_keys().has_keys
    with pytest.raises(KeyError):
        paper.item("q99")


def test_localized_text_falls_back_to_chinese() -> None:
    paper = _paper()
    assert paper.title.get("en") == "Sample paper"
    assert paper.title.get("zh_CN") == "样例试卷"
    section_title = paper.sections[1].title
    assert section_title.get("en") == "二、判断与填空"
    assert section_title.get("fr") == "二、判断与填空"
    text = LocalizedText.of({"zh_CN": "中", "en": ""})
    assert text.get("en") == "中" and text["en"] == "" and "en" in text and len(text) == 2
    with pytest.raises(ValueError):
        LocalizedText.of({"en": "only English"})


def test_json_round_trip() -> None:
    paper = _paper()
    document = json.loads(json.dumps(paper.to_json_dict()))
    assert Paper.from_source(document, dict(paper.media)) == paper


def test_stems_are_sanitized_and_unreferenced_media_dropped() -> None:
    document = sample_document()
    document["sections"][0]["items"][0]["stem"]["zh_CN"] = (
        '<b onclick="steal()">粗体</b><script>alert(1)</script><img src="http://x/y.png">')
    paper = _paper(document, {**sample_media(), "unused.png": b"\x89PNG\r\n\x1a\n"})
    assert paper.item("q1").stem.source == "<b>粗体</b>"
    assert set(paper.media) == {"fig.png", "clip.wav"}


def test_paper_is_immutable() -> None:
    media = sample_media()
    paper = _paper(media=media)
    media["fig.png"] = b"changed"
    assert paper.media["fig.png"] != b"changed"
    with pytest.raises(TypeError):
        paper.media["fig.png"] = b"x"  # type: ignore[index]


def _break(change: Callable[[dict[str, Any]], object]) -> UserFacingError:
    document = sample_document()
    change(document)
    with pytest.raises(UserFacingError) as caught:
        _paper(document)
    assert caught.value.code == "paper.invalid"
    return caught.value


def _item(document: dict[str, Any], item_id: str) -> dict[str, Any]:
    for section in document["sections"]:
        for item in section["items"]:
            if item["id"] == item_id:
                return item  # type: ignore[no-any-return]
    raise KeyError(item_id)


@pytest.mark.parametrize(("change", "item", "field"), [
    (lambda d: _item(d, "q1").update(key="Z"), "q1", "key"),
    (lambda d: _item(d, "q1").pop("stem"), "q1", "stem"),
    (lambda d: _item(d, "q1").update(type="matching"), "q1", "type"),
    (lambda d: _item(d, "q1").update(score=-1), "q1", "score"),
    (lambda d: _item(d, "q1").update(score=True), "q1", "score"),
    (lambda d: _item(d, "q1").update(options=[{"id": "A", "text": {"zh_CN": "x"}}]),
     "q1", "options"),
    (lambda d: _item(d, "q1")["options"][1].update(id="A"), "q1", "options[1].id"),
    (lambda d: _item(d, "q1").update(max_lenght=5), "q1", "max_lenght"),
    (lambda d: _item(d, "q1").update(blanks=2), "q1", "blanks"),
    (lambda d: _item(d, "q2").update(key=["A", "A"]), "q2", "key"),
    (lambda d: _item(d, "q2").update(stem={"zh_CN": '<img src="media:nope.png">'}),
     "q2", "stem.zh_CN"),
    (lambda d: _item(d, "q3").update(audio={"media": "missing.wav", "max_plays": 2}),
     "q3", "audio.media"),
    (lambda d: _item(d, "q3").update(audio={"media": "clip.wav", "max_plays": 0}),
     "q3", "audio.max_plays"),
    (lambda d: _item(d, "q4").update(key="true"), "q4", "key"),
    (lambda d: _item(d, "q4").update(options=[]), "q4", "options"),
    (lambda d: _item(d, "q5").update(key=[["北京"]]), "q5", "key"),
    (lambda d: _item(d, "q5").update(key=[["北京"], [" "]]), "q5", "key[1]"),
    (lambda d: _item(d, "q5").update(blanks=0), "q5", "blanks"),
    (lambda d: _item(d, "q6").update(key="anything"), "q6", "key"),
    (lambda d: _item(d, "q6").update(stem={"en": "English only"}), "q6", "stem.zh_CN"),
    (lambda d: _item(d, "q6").update(stem={"zh_CN": "x", "fr": "y"}), "q6", "stem.fr"),
    (lambda d: _item(d, "q6").update(id="q1"), "q1", "id"),
])
def test_invalid_item_names_item_and_field(change: Callable[[dict[str, Any]], object],
                                           item: str, field: str) -> None:
    error = _break(change)
    assert error.detail["item"] == item
    assert error.detail["field"] == field
    assert item in error.message and field in error.message


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d.pop("paper_id"), "paper_id"),
    (lambda d: d.update(paper_id="bad id/.."), "paper_id"),
    (lambda d: d.update(duration_minutes=0), "duration_minutes"),
    (lambda d: d.update(format_version=2), "format_version"),
    (lambda d: d.update(sections=[]), "sections"),
    (lambda d: d.update(title="plain string"), "title"),
])
def test_invalid_paper_fields(change: Callable[[dict[str, Any]], object], field: str) -> None:
    error = _break(change)
    assert error.detail["field"] == field and error.detail["item"] is None


def test_item_without_valid_id_is_located_by_position() -> None:
    error = _break(lambda d: _item(d, "q5").update(id=""))
    assert error.detail["section"] == 2
    assert "第 2 部分第 2 题" in error.message


def test_media_whose_content_does_not_match_its_name() -> None:
    with pytest.raises(UserFacingError) as caught:
        _paper(media={"fig.png": tiny_wav(), "clip.wav": tiny_wav()})
    assert caught.value.code == "paper.invalid"
    assert caught.value.detail["field"] == "fig.png"


# --- answer values ------------------------------------------------------------------------

VALID = [
    ("q1", "B"), ("q1", None), ("q2", ["A", "C"]), ("q2", []), ("q4", False),
    ("q5", ["x", ""]), ("q6", "我认为……"),
]
INVALID = [
    ("q1", "Z"), ("q1", ["B"]), ("q1", 1), ("q2", "A"), ("q2", ["A", "A"]), ("q2", ["Z"]),
    ("q4", "true"), ("q4", 1), ("q5", ["only one"]), ("q5", ["a", 2]), ("q5", ["x" * 21, ""]),
    ("q6", ["text"]), ("q6", "字" * 51),
]


@pytest.mark.parametrize(("item_id", "value"), VALID)
def test_valid_answers(item_id: str, value: Any) -> None:
    validate_answer(_paper().item(item_id), value)


@pytest.mark.parametrize(("item_id", "value"), INVALID)
def test_invalid_answers(item_id: str, value: Any) -> None:
    with pytest.raises(UserFacingError) as caught:
        validate_answer(_paper().item(item_id), value)
    assert caught.value.code == "paper.answer_invalid"
    assert caught.value.detail["item"] == item_id


@pytest.mark.parametrize(("item_id", "value", "stored"), [
    ("q1", "B", "B"),
    ("q2", ["D", "A"], ["A", "D"]),
    ("q2", [], None),
    ("q4", True, True),
    ("q5", ["  北京 ", "上海\n"], ["北京", "上海"]),
    ("q5", [" ", ""], None),
    ("q6", "第一行\r\n第二行", "第一行\n第二行"),
    ("q6", "  \n ", None),
    ("q6", None, None),
])
def test_normalise_answer(item_id: str, value: Any, stored: Any) -> None:
    assert normalise_answer(_paper().item(item_id), value) == stored


def test_normalise_refuses_invalid() -> None:
    with pytest.raises(UserFacingError):
        normalise_answer(_paper().item("q2"), ["A", "Z"])
