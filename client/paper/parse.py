"""paper.json -> Paper, with messages that tell the author which item and field are wrong.

The format is documented in docs/formats.md ("Paper package"). Unknown fields are refused
(a misspelt ``max_lenght`` would otherwise be silently ignored), HTML is sanitized, keys are
checked against the options, and every referenced media file must exist and look like
the type its name says.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from client.errors import UserFacingError
from client.i18n import _
from client.paper.localized import PAPER_LANGUAGES, SOURCE_LANGUAGE, LocalizedText
from client.paper.media import content_matches_name, extension, is_valid_media_name
from client.paper.model import PAPER_FORMAT_VERSION, AudioRef, Item, Option, Paper, Section
from client.paper.richtext import media_references, sanitize
from client.paper.values import JsonValue, QuestionType

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_TEXT_CHARS = 100_000
MAX_BLANKS = 50
MAX_PLAYS = 20

_PAPER_FIELDS = {"format_version", "exam_id", "paper_id", "title", "duration_minutes", "sections",
                 "lockdown"}
LOCKDOWN_PROFILES = ("strict", "assistive")  # client/lockdown/policy.py Profile
_SECTION_FIELDS = {"id", "title", "items"}
_ITEM_FIELDS = {"id", "type", "stem", "options", "blanks", "max_length", "score", "key", "audio"}


@dataclass(frozen=True)
class _Where:
    """A place in paper.json, described for a person."""

    field: str
    item: str | None = None
    section: int | None = None
    number: int | None = None

    def at(self, field: str) -> _Where:
        if not self.field or field.startswith("["):
            joined = self.field + field
        else:
            joined = f"{self.field}.{field}"
        return _Where(joined, self.item, self.section, self.number)

    def describe(self) -> str:
        if self.item is not None:
            return _("题目 {item} 的字段 {field}").format(item=self.item, field=self.field)
        if self.section is not None and self.number is not None:
            return _("第 {section} 部分第 {number} 题的字段 {field}").format(
                section=self.section, number=self.number, field=self.field)
        if self.section is not None:
            return _("第 {section} 部分的字段 {field}").format(
                section=self.section, field=self.field)
        return _("试卷的字段 {field}").format(field=self.field)


def _fail(where: _Where, problem: str) -> UserFacingError:
    return UserFacingError(
        "paper.invalid",
        _("试卷内容有误（{where}）：{problem}").format(where=where.describe(), problem=problem),
        item=where.item,
        field=where.field,
        section=where.section,
    )


def _mapping(value: object, where: _Where) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise _fail(where, _("应为对象"))
    return value


def _no_unknown_fields(document: Mapping[str, object], where: _Where, allowed: set[str]) -> None:
    for name in document:
        if name not in allowed:
            raise _fail(where.at(str(name)), _("未知字段"))


def _object(value: object, where: _Where, allowed: set[str]) -> Mapping[str, object]:
    document = _mapping(value, where)
    _no_unknown_fields(document, where, allowed)
    return document


def _required(document: Mapping[str, object], name: str, where: _Where) -> object:
    if name not in document or document[name] is None:
        raise _fail(where.at(name), _("缺少此字段"))
    return document[name]


def _identifier(value: object, where: _Where) -> str:
    if not isinstance(value, str):
        raise _fail(where, _("应为文本"))
    if not _IDENTIFIER.match(value):
        raise _fail(where, _("编号只能包含字母、数字、点、下划线和连字符，最多 64 个字符"))
    return value


def _integer(value: object, where: _Where, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, _("应为整数"))
    if not low <= value <= high:
        raise _fail(where, _("取值应在 {low} 到 {high} 之间").format(low=low, high=high))
    return value


def _score(value: object, where: _Where) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, _("应为数字"))
    if not math.isfinite(value) or not 0 < value <= 1000:
        raise _fail(where, _("应大于 0 且不超过 {high}").format(high=1000))
    return float(value)


def _list(value: object, where: _Where, *, non_empty: bool = True) -> list[object]:
    if not isinstance(value, list):
        raise _fail(where, _("应为列表"))
    if non_empty and not value:
        raise _fail(where, _("不能为空"))
    return value


def _localized(value: object, where: _Where, media: Mapping[str, bytes]) -> LocalizedText:
    if not isinstance(value, Mapping):
        raise _fail(where, _("应为各语言文本的对象，如 {\"zh_CN\": \"...\", \"en\": \"...\"}"))
    texts: dict[str, str] = {}
    for language, html in value.items():
        here = where.at(str(language))
        if language not in PAPER_LANGUAGES:
            raise _fail(here, _("不支持的语言（可用：zh_CN、en）"))
        if not isinstance(html, str):
            raise _fail(here, _("应为文本"))
        if len(html) > MAX_TEXT_CHARS:
            raise _fail(here, _("文本过长（最多 {limit} 个字符）").format(limit=MAX_TEXT_CHARS))
        clean = sanitize(html)
        for name in sorted(media_references(clean)):
            if name not in media:
                raise _fail(here, _("引用的媒体文件 {name} 不存在").format(name=name))
        texts[str(language)] = clean
    if not texts.get(SOURCE_LANGUAGE, "").strip():
        raise _fail(where.at(SOURCE_LANGUAGE), _("缺少中文（zh_CN）文本"))
    return LocalizedText.of(texts)


def _options(document: Mapping[str, object], where: _Where,
             media: Mapping[str, bytes]) -> tuple[Option, ...]:
    raw = _list(_required(document, "options", where), where.at("options"))
    if len(raw) < 2:
        raise _fail(where.at("options"), _("选择题至少需要 2 个选项"))
    options: list[Option] = []
    for index, entry in enumerate(raw):
        here = where.at(f"options[{index}]")
        option = _object(entry, here, {"id", "text"})
        option_id = _identifier(_required(option, "id", here), here.at("id"))
        if option_id in (o.id for o in options):
            raise _fail(here.at("id"), _("编号重复：{id}").format(id=option_id))
        options.append(Option(option_id, _localized(_required(option, "text", here),
                                                    here.at("text"), media)))
    return tuple(options)


def _key(value: object, item_type: QuestionType, where: _Where, *,
         option_ids: tuple[str, ...], blanks: int) -> JsonValue:
    if item_type is QuestionType.SINGLE:
        if not isinstance(value, str) or value not in option_ids:
            raise _fail(where, _("应为一个存在的选项编号"))
        return value
    if item_type is QuestionType.MULTIPLE:
        chosen = _list(value, where)
        if not all(isinstance(v, str) and v in option_ids for v in chosen):
            raise _fail(where, _("应为存在的选项编号的列表"))
        if len(set(map(str, chosen))) != len(chosen):
            raise _fail(where, _("选项不能重复"))
        ordered: list[JsonValue] = [*sorted(str(v) for v in chosen)]
        return ordered
    if item_type is QuestionType.TRUE_FALSE:
        if not isinstance(value, bool):
            raise _fail(where, _("应为 true 或 false"))
        return value
    if item_type is QuestionType.FILL_BLANK:
        per_blank = _list(value, where)
        if len(per_blank) != blanks:
            raise _fail(where, _("应为每空一组可接受答案，共 {blanks} 空").format(blanks=blanks))
        key: list[JsonValue] = []
        for index, variants in enumerate(per_blank):
            accepted = _list(variants, where.at(f"[{index}]"))
            if not all(isinstance(v, str) and v.strip() for v in accepted):
                raise _fail(where.at(f"[{index}]"), _("每个可接受答案应为非空文本"))
            key.append([str(v) for v in accepted])
        return key
    raise _fail(where, _("此题型不应有该字段"))


def _audio(value: object, where: _Where, media: Mapping[str, bytes]) -> AudioRef:
    audio = _object(value, where, {"media", "max_plays"})
    name = _required(audio, "media", where)
    if not isinstance(name, str) or not is_valid_media_name(name) or extension(name) not in (
            ".wav", ".mp3"):
        raise _fail(where.at("media"), _("应为 .wav 或 .mp3 媒体文件名"))
    if name not in media:
        raise _fail(where.at("media"), _("引用的媒体文件 {name} 不存在").format(name=name))
    plays = _integer(_required(audio, "max_plays", where), where.at("max_plays"),
                     low=1, high=MAX_PLAYS)
    return AudioRef(name, plays)


def _item(value: object, where: _Where, media: Mapping[str, bytes]) -> Item:
    document = _mapping(value, where)
    item_id = _identifier(_required(document, "id", where), where.at("id"))
    where = _Where("", item=item_id)
    _no_unknown_fields(document, where, _ITEM_FIELDS)
    raw_type = _required(document, "type", where)
    try:
        item_type = QuestionType(str(raw_type))
    except ValueError:
        raise _fail(where.at("type"), _("未知题型：{type}（可用：single、multiple、true_false、"
                                          "fill_blank、essay）").format(type=raw_type)) from None
    for name, applies in (
        ("options", item_type.has_options),
        ("blanks", item_type is QuestionType.FILL_BLANK),
        ("max_length", item_type in (QuestionType.FILL_BLANK, QuestionType.ESSAY)),
        ("key", item_type.is_objective),
    ):
        if not applies and document.get(name) is not None:
            raise _fail(where.at(name), _("此题型不应有该字段"))
    stem = _localized(_required(document, "stem", where), where.at("stem"), media)
    options = _options(document, where, media) if item_type.has_options else ()
    blanks = 0
    if item_type is QuestionType.FILL_BLANK:
        blanks = _integer(_required(document, "blanks", where), where.at("blanks"),
                          low=1, high=MAX_BLANKS)
    max_length = None
    if document.get("max_length") is not None:
        max_length = _integer(document["max_length"], where.at("max_length"),
                              low=1, high=MAX_TEXT_CHARS)
    key = None
    if document.get("key") is not None:
        key = _key(document["key"], item_type, where.at("key"),
                   option_ids=tuple(o.id for o in options), blanks=blanks)
    audio = None
    if document.get("audio") is not None:
        audio = _audio(document["audio"], where.at("audio"), media)
    return Item(
        id=item_id, type=item_type, stem=stem, score=_score(_required(document, "score", where),
                                                            where.at("score")),
        options=options, blanks=blanks, max_length=max_length, key=key, audio=audio,
    )


def _section(value: object, where: _Where, media: Mapping[str, bytes],
             seen_items: set[str]) -> Section:
    document = _object(value, where, _SECTION_FIELDS)
    section_id = _identifier(_required(document, "id", where), where.at("id"))
    title = _localized(_required(document, "title", where), where.at("title"), media)
    items: list[Item] = []
    raw_items = _list(_required(document, "items", where), where.at("items"))
    for number, raw in enumerate(raw_items, start=1):
        item = _item(raw, _Where("", section=where.section, number=number), media)
        if item.id in seen_items:
            raise _fail(_Where("id", item=item.id), _("编号重复：{id}").format(id=item.id))
        seen_items.add(item.id)
        items.append(item)
    return Section(section_id, title, tuple(items))


def _used_media(sections: list[Section], title: LocalizedText,
                media: Mapping[str, bytes]) -> dict[str, bytes]:
    names: set[str] = set()
    for _language, html in title.pairs:
        names |= media_references(html)
    for section in sections:
        for _language, html in section.title.pairs:
            names |= media_references(html)
        for item in section.items:
            names |= item.media_names()
    used: dict[str, bytes] = {}
    for name in sorted(names):
        data = media[name]
        if not content_matches_name(name, data):
            raise _fail(_Where(name), _("媒体文件内容与扩展名不符（不是有效的 {ext} 文件）").format(
                ext=extension(name)))
        used[name] = data
    return used


def parse_paper(document: object, media: Mapping[str, bytes]) -> Paper:
    root = _Where("")
    paper = _object(document, root, _PAPER_FIELDS)
    version = paper.get("format_version", PAPER_FORMAT_VERSION)
    if version != PAPER_FORMAT_VERSION or isinstance(version, bool):
        raise _fail(root.at("format_version"),
                    _("不支持的试卷格式版本：{version}").format(version=version))
    paper_id = _identifier(_required(paper, "paper_id", root), root.at("paper_id"))
    exam_id = ""
    if paper.get("exam_id") not in (None, ""):
        exam_id = _identifier(paper["exam_id"], root.at("exam_id"))
    title = _localized(_required(paper, "title", root), root.at("title"), media)
    duration = _integer(_required(paper, "duration_minutes", root),
                        root.at("duration_minutes"), low=1, high=24 * 60)
    lockdown = paper.get("lockdown", "strict")
    if lockdown not in LOCKDOWN_PROFILES:
        raise _fail(root.at("lockdown"), _("锁定方式只能是 {allowed}").format(
            allowed=" / ".join(LOCKDOWN_PROFILES)))
    sections: list[Section] = []
    seen_items: set[str] = set()
    for number, raw in enumerate(_list(_required(paper, "sections", root),
                                       root.at("sections")), start=1):
        section = _section(raw, _Where("", section=number), media, seen_items)
        if section.id in (s.id for s in sections):
            raise _fail(_Where("id", section=number), _("编号重复：{id}").format(id=section.id))
        sections.append(section)
    return Paper(
        exam_id=exam_id,
        paper_id=paper_id,
        title=title,
        duration_minutes=duration,
        sections=tuple(sections),
        media=_used_media(sections, title, media),
        lockdown=str(lockdown),
    )
