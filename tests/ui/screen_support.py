"""Pages of the exam client built for screen tests without a server: the demo paper on a
real ExamPage, and the exam window with its login, waiting, exam and result pages."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from client.config import load_settings
from client.paper.model import Paper
from client.paper.source import PaperSource
from client.resources import resource_path
from client.session.factory import create_session
from client.ui.app import GuiOptions, build_window, install_language
from client.ui.exam_page import ExamPage
from client.ui.main_window import ExamWindow

PAGES = ("login", "waiting", "exam", "result")


def demo_paper() -> Paper:
    return PaperSource.from_path(resource_path("demo", "paper")).load()


def exam_page(*, answers: dict[str, Any] | None = None, font_scale: float = 1.0,
              essay_limit: int | None = None, language: str = "zh_CN") -> ExamPage:
    install_language(language)  # an earlier test may have left another catalog installed
    paper = demo_paper()
    if essay_limit is not None:
        sections = tuple(dataclasses.replace(section, items=tuple(
            dataclasses.replace(item, max_length=essay_limit) if item.type.value == "essay"
            else item for item in section.items)) for section in paper.sections)
        paper = dataclasses.replace(paper, sections=sections)
    return ExamPage(paper=paper, candidate="张三（20260001）", language=language,
                    answers=answers or {}, plays={}, font_scale=font_scale)


def offline_window(qtbot: Any, data_dir: Path, *, language: str = "zh_CN") -> ExamWindow:
    """The real exam window on a session whose server is never asked (port 9 discards)."""
    settings = load_settings([]).with_overrides({
        "server/url": "http://127.0.0.1:9", "data/directory": data_dir})
    window = build_window(create_session(settings),
                          GuiOptions(server_url="http://127.0.0.1:9", language=language))
    qtbot.addWidget(window)
    return window


def show_page(window: ExamWindow, name: str) -> None:
    """Put *name* on screen with representative content."""
    if name == "waiting":
        window.waiting_page.set_exam(title="2026 年春季学期 计算机基础 期末考试",
                                     candidate="张三", student_no="20260001",
                                     start_ms=1_780_000_000_000, end_ms=1_780_005_400_000)
        window.waiting_page.set_countdown(754_000)
        window.waiting_page.set_preloaded(window.tr("试卷已下载并校验完毕，等待考试开始"))
    elif name == "exam":
        if window.exam_page is None:
            window.exam_page = exam_page(language=window.language)
            window.pages.addWidget(window.exam_page)
    elif name == "result":
        window.result_page.show_score(score=38.0, max_score=50.0, pending_review=False)
    window._show(name)
