"""Pages of the exam client built for screen tests without a server: the demo paper on a
real ExamPage, and the exam window with its login, waiting, exam and result pages, the
first-start readiness check (考前检查) and the pledge (考试承诺书), and the proctor panel
locked and unlocked."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

from client.config import load_settings
from client.i18n import _
from client.lockdown.away_time import AwayTotals
from client.paper.exam_rules import Pledge
from client.paper.model import Paper
from client.paper.source import PaperSource
from client.proctor.candidate_status import CandidateStatus
from client.proctor.proctor_log import ProctorLog
from client.proctor.proctor_mode import ProctorMode
from client.proctor.verifiers import ProctorIdentity, ProctorVerifierSet
from client.readiness.result import CheckResult, Status
from client.readiness.runner import ReadinessContext
from client.resources import resource_path
from client.session.factory import create_session
from client.ui.app import GuiOptions, build_window, install_language
from client.ui.exam_page import ExamPage
from client.ui.main_window import ExamWindow
from client.ui.pledge_page import PledgePage
from client.ui.proctor_panel import ProctorPanel
from client.ui.readiness_screen import ReadinessScreen

PAGES = ("login", "waiting", "exam", "result")
# The exam window's other pages: on a PC's first start, and when the package has a pledge.
MORE_PAGES = ("readiness", "pledge")
EVERY_PAGE = ("readiness", "login", "pledge", "waiting", "exam", "result")

PLEDGE = Pledge(
    text_zh="本人承诺：独立完成考试，不携带、不使用任何与考试有关的资料和电子设备；"
            "不与他人交流；服从监考教师的安排。如有违纪，愿意接受相应处理。\n" * 6,
    text_en="I will take this exam on my own, without notes or devices, without talking to "
            "anyone, and follow the proctor's instructions. I accept the rules on "
            "misconduct.\n" * 6,
    required=False)


def readiness_results() -> list[CheckResult]:
    """A first start's lines in the current language: passes, a warning and two failures
    with the long messages a real lab PC gives."""
    return [
        CheckResult("os", Status.PASS, _("{name}（内部版本 {build}）").format(
            name="Windows 10 Pro 22H2", build="19045.4291")),
        CheckResult("memory", Status.PASS, _("内存 {total:.1f} GB（可用 {free:.1f} GB）").format(
            total=4.0, free=1.7)),
        CheckResult("disk", Status.PASS, _("数据目录所在磁盘剩余 {free:.1f} GB").format(free=38.2)),
        CheckResult("screen", Status.PASS, _("屏幕分辨率 {size}").format(
            size=_("{width}×{height}").format(width=1366, height=768))),
        CheckResult("opengl", Status.WARN, _("渲染级别：自动（本机尚无记录，从最高级别开始）")),
        CheckResult("server", Status.FAIL, _("连接被拒绝（地址或端口错误，或服务器未运行）")),
        CheckResult("tls", Status.WARN, _("未检查：无法连接考试服务器")),
        CheckResult("exam_day", Status.FAIL, "；".join([
            _("接通电源 {minutes} 分钟后睡眠").format(minutes=30),
            _("未设置 Windows 更新的使用时段，更新后可能在考试中自动重启")])),
    ]


@functools.cache
def _no_verifiers() -> ProctorVerifierSet:
    """Made once: even an empty set hashes a dummy password (argon2, ~0.8 s here)."""
    return ProctorVerifierSet([])


class _NoEvents:
    def append(self, kind: str, payload: object) -> None:
        pass


def proctor_panel(window: ExamWindow, *, unlocked: bool) -> ProctorPanel:
    """The proctor panel over the exam window with a running exam's status and every
    action the exam window gives it (exit, support), locked or unlocked."""
    mode = ProctorMode(verifiers=_no_verifiers(),
                       log=ProctorLog(sink=_NoEvents(), server_time_ms=lambda: None))
    panel = ProctorPanel(
        mode=mode, candidate_status=lambda: PANEL_STATUS, export=lambda folder: None,  # type: ignore[arg-type,return-value]
        on_authorize_relogin=lambda who: None, on_approve_entry=lambda who: None,
        on_exit_client=lambda who: None, locations=lambda: [],
        support_actions=[(_("应急材料"), lambda: ""), (_("生成诊断包"), lambda: ""),
                         (_("查看崩溃日志"), lambda: "")],
        parent=window)
    if unlocked:
        panel._show_main(ProctorIdentity("p-01", "王老师"))
        panel._show_status(PANEL_STATUS)
    return panel


PANEL_STATUS = CandidateStatus(
    candidate_no="2024000001", candidate_name="张三", exam_id="demo-exam",
    exam_title="2026 年春季学期 计算机基础 期末考试", answered=5, question_total=8,
    revisions_saved=17, unsynced=2, synced_up_to_server_ms=1_780_000_600_000,
    submission="answering", integrity="正常", identity="人脸核验通过",
    away=AwayTotals(losses=2, away_ms=75_000, unknown_returns=0, locks=1,
                    locked_ms=300_000, suspends=1, suspended_ms=1_260_000))


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
    elif name == "readiness":
        if getattr(window, "readiness_page", None) is None:
            settings = load_settings([]).with_overrides({"server/url": "http://127.0.0.1:9"})
            screen = ReadinessScreen(ReadinessContext.from_settings(settings))
            results = readiness_results()
            for result in results:
                screen._add_line(result)
            screen._finish(results)
            window.readiness_page = screen
            window.pages.addWidget(screen)
    elif name == "pledge" and window.pages.findChild(PledgePage) is None:
        window.pages.addWidget(PledgePage(PLEDGE, language=window.language))
    if name in MORE_PAGES:
        # As show_readiness_first and PledgeFlow put them on screen.
        page = (window.readiness_page if name == "readiness"
                else window.pages.findChild(PledgePage))
        assert page is not None
        window.pages.setCurrentWidget(page)
        window.current_page = name
        return
    window._show(name)
