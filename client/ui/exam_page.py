"""答题: navigator grid, one question at a time, timer, save/sync state, zoom, submit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from client.i18n import N_
from client.paper.model import Item, Paper, QuestionType
from client.timefmt import beijing_clock, countdown
from client.ui.answer_editors import Editor, editor_for
from client.ui.richtext_view import RichTextLabel

TYPE_NAMES = {
    QuestionType.SINGLE: N_("单选题"),
    QuestionType.MULTIPLE: N_("多选题"),
    QuestionType.TRUE_FALSE: N_("判断题"),
    QuestionType.FILL_BLANK: N_("填空题"),
    QuestionType.ESSAY: N_("简答题"),
}

NAV_COLUMNS = 5


def _flag(value: bool) -> str:
    return "true" if value else "false"


def is_answered(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        return any(str(v).strip() for v in value)
    return True


class QuestionPane(QWidget):
    """One question: number, type, score, stem, optional audio button, answer editor."""

    def __init__(self, *, number: int, item: Item, language: str, paper: Paper,
                 plays_left: int | None, on_play: Callable[[Item], None]) -> None:
        super().__init__()
        self.item = item
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        header = QLabel(self.tr("第 {n} 题").format(n=number) + "　"
                        + self.tr(TYPE_NAMES[item.type]) + "　"
                        + self.tr("（{score} 分）").format(score=f"{item.score:g}"))
        header.setObjectName("subtitle")
        layout.addWidget(header)
        self.stem = RichTextLabel(item.stem.get(language), media=paper.media)
        self.stem.setObjectName("stem")
        layout.addWidget(self.stem)
        self.play_button: QPushButton | None = None
        if item.audio is not None:
            self.play_button = QPushButton()
            self.play_button.setObjectName("playAudio")
            self.play_button.clicked.connect(lambda: on_play(item))
            self.set_plays_left(plays_left if plays_left is not None else item.audio.max_plays)
            row = QHBoxLayout()
            row.addWidget(self.play_button)
            row.addStretch(1)
            layout.addLayout(row)
        self.editor: Editor = editor_for(item, language=language, media=paper.media)
        layout.addWidget(self.editor)
        layout.addStretch(1)

    def set_plays_left(self, plays_left: int, *, playing: bool = False) -> None:
        if self.play_button is None:
            return
        if playing:
            self.play_button.setText(self.tr("正在播放…"))
            self.play_button.setEnabled(False)
            return
        self.play_button.setText(self.tr("▶ 播放音频（还可播放 {n} 次）").format(n=plays_left))
        self.play_button.setEnabled(plays_left > 0)


class ExamPage(QWidget):
    answerChanged = Signal(str, object, bool)  # question id, value, coalesce
    submitRequested = Signal()
    playRequested = Signal(object)  # Item

    def __init__(self, *, paper: Paper, candidate: str, language: str,
                 answers: dict[str, Any], plays: dict[str, int], font_scale: float = 1.0) -> None:
        super().__init__()
        self.setObjectName("page")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.paper = paper
        self.items = list(paper.items())
        self.answers = dict(answers)
        self.flagged: set[str] = set()
        self.current = 0
        self._font_scale = font_scale
        self._base_point_size = QFont().pointSizeF() or 11.0

        root = QVBoxLayout(self)
        self._root = root
        root.addWidget(self._build_top_bar(candidate, language))
        body = QHBoxLayout()
        root.addLayout(body, 1)
        body.addWidget(self._build_navigator(), 0)

        question_card = QFrame()
        question_card.setObjectName("card")
        card_layout = QVBoxLayout(question_card)
        self.stack = QStackedWidget()
        self.panes: list[QuestionPane] = []
        for number, item in enumerate(self.items, start=1):
            plays_left = None
            if item.audio is not None:
                plays_left = item.audio.max_plays - plays.get(item.id, 0)
            pane = QuestionPane(number=number, item=item, language=language, paper=paper,
                                plays_left=plays_left, on_play=self.playRequested.emit)
            pane.editor.set_value(self.answers.get(item.id))
            pane.editor.valueChanged.connect(
                lambda value, coalesce, qid=item.id: self._on_value(qid, value, coalesce))
            pane.setObjectName("questionPane")
            pane.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(pane)
            self.stack.addWidget(scroll)
            self.panes.append(pane)
        card_layout.addWidget(self.stack, 1)
        card_layout.addLayout(self._build_bottom_bar())
        body.addWidget(question_card, 1)

        QShortcut(QKeySequence(Qt.Key.Key_PageDown), self, self.next_question)
        QShortcut(QKeySequence(Qt.Key.Key_PageUp), self, self.previous_question)
        self._apply_zoom()
        self.show_question(0)

    # -- construction -------------------------------------------------------------------

    def _build_top_bar(self, candidate: str, language: str) -> QWidget:
        bar = QFrame()
        bar.setObjectName("card")
        layout = QHBoxLayout(bar)
        title = QLabel(self.paper.title.get(language))
        title.setObjectName("subtitle")
        title.setStyleSheet("font-weight: bold;")
        layout.addWidget(title)
        layout.addWidget(QLabel(candidate))
        layout.addStretch(1)
        self.save_state = QLabel(self.tr("答案已保存到本机"))
        self.save_state.setObjectName("saveState")
        layout.addWidget(self.save_state)
        layout.addSpacing(16)
        zoom_out = QPushButton("A-")
        zoom_out.setToolTip(self.tr("缩小字号"))
        zoom_out.clicked.connect(lambda: self.zoom(-0.1))
        zoom_in = QPushButton("A+")
        zoom_in.setToolTip(self.tr("放大字号"))
        zoom_in.clicked.connect(lambda: self.zoom(+0.1))
        layout.addWidget(zoom_out)
        layout.addWidget(zoom_in)
        layout.addSpacing(16)
        layout.addWidget(QLabel(self.tr("剩余时间")))
        self.timer = QLabel("--:--:--")
        self.timer.setObjectName("timer")
        layout.addWidget(self.timer)
        return bar

    def _build_navigator(self) -> QWidget:
        card = QFrame()
        card.setObjectName("card")
        layout = QVBoxLayout(card)
        caption = QLabel(self.tr("答题卡"))
        caption.setObjectName("subtitle")
        layout.addWidget(caption)
        grid = QGridLayout()
        grid.setSpacing(6)
        self.nav_buttons: list[QPushButton] = []
        for index, _item in enumerate(self.items):
            button = QPushButton(str(index + 1))
            button.setObjectName("navButton")
            button.clicked.connect(lambda _checked=False, i=index: self.show_question(i))
            grid.addWidget(button, index // NAV_COLUMNS, index % NAV_COLUMNS)
            self.nav_buttons.append(button)
        layout.addLayout(grid)
        legend = QLabel(self.tr("绿色：已答　橙框：已标记"))
        legend.setStyleSheet("font-size: 12px; color: #4a5a6a;")
        layout.addWidget(legend)
        self.progress_label = QLabel()
        layout.addWidget(self.progress_label)
        layout.addStretch(1)
        self.submit_button = QPushButton(self.tr("交卷"))
        self.submit_button.setObjectName("primary")
        self.submit_button.clicked.connect(self.submitRequested)
        layout.addWidget(self.submit_button)
        return card

    def _build_bottom_bar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.previous_button = QPushButton(self.tr("上一题"))
        self.previous_button.clicked.connect(self.previous_question)
        self.flag_button = QPushButton(self.tr("标记本题"))
        self.flag_button.setCheckable(True)
        self.flag_button.clicked.connect(self.toggle_flag)
        self.next_button = QPushButton(self.tr("下一题"))
        self.next_button.clicked.connect(self.next_question)
        row.addWidget(self.previous_button)
        row.addStretch(1)
        row.addWidget(self.flag_button)
        row.addStretch(1)
        row.addWidget(self.next_button)
        return row

    # -- behaviour ----------------------------------------------------------------------

    def _on_value(self, question_id: str, value: Any, coalesce: bool) -> None:
        self.answers[question_id] = value
        self._refresh_navigator()
        self.answerChanged.emit(question_id, value, coalesce)

    def show_question(self, index: int) -> None:
        self.current = max(0, min(index, len(self.items) - 1))
        self.stack.setCurrentIndex(self.current)
        self.previous_button.setEnabled(self.current > 0)
        self.next_button.setEnabled(self.current < len(self.items) - 1)
        self.flag_button.setChecked(self.items[self.current].id in self.flagged)
        self._refresh_navigator()

    def next_question(self) -> None:
        self.show_question(self.current + 1)

    def previous_question(self) -> None:
        self.show_question(self.current - 1)

    def toggle_flag(self) -> None:
        qid = self.items[self.current].id
        if qid in self.flagged:
            self.flagged.discard(qid)
        else:
            self.flagged.add(qid)
        self.flag_button.setChecked(qid in self.flagged)
        self._refresh_navigator()

    def _refresh_navigator(self) -> None:
        for index, (button, item) in enumerate(zip(self.nav_buttons, self.items, strict=True)):
            # WORKAROUND: string properties, not Python bools: PySide6 6.12 mis-counts
            # references of bool QVariants and can abort at interpreter exit.
            button.setProperty("answered", _flag(is_answered(self.answers.get(item.id))))
            button.setProperty("flagged", _flag(item.id in self.flagged))
            button.setProperty("current", _flag(index == self.current))
            button.style().unpolish(button)
            button.style().polish(button)
        answered = sum(1 for item in self.items if is_answered(self.answers.get(item.id)))
        self.progress_label.setText(self.tr("已答 {done} / {total} 题").format(
            done=answered, total=len(self.items)))

    def unanswered_numbers(self) -> list[int]:
        return [index + 1 for index, item in enumerate(self.items)
                if not is_answered(self.answers.get(item.id))]

    def zoom(self, step: float) -> None:
        self._font_scale = max(0.8, min(2.0, round(self._font_scale + step, 2)))
        self._apply_zoom()

    def _apply_zoom(self) -> None:
        font = QFont(self.font())
        font.setPointSizeF(self._base_point_size * self._font_scale * 1.15)
        self.stack.setFont(font)
        for pane in self.panes:
            pane.stem.setFont(font)

    def set_time_left(self, ms: int | None) -> None:
        self.timer.setText("--:--:--" if ms is None else countdown(ms))
        urgent = _flag(ms is not None and ms < 5 * 60 * 1000)
        if self.timer.property("urgent") != urgent:
            self.timer.setProperty("urgent", urgent)
            self.timer.style().unpolish(self.timer)
            self.timer.style().polish(self.timer)

    def set_save_state(self, state: str, text: str) -> None:
        self.save_state.setText(text)
        self.save_state.setProperty("state", state)
        self.save_state.style().unpolish(self.save_state)
        self.save_state.style().polish(self.save_state)

    def set_plays_left(self, question_id: str, plays_left: int, *, playing: bool) -> None:
        for pane in self.panes:
            if pane.item.id == question_id:
                pane.set_plays_left(plays_left, playing=playing)

    def insert_notice(self, notice: QWidget) -> None:
        """A quiet notice bar under the top bar (camera proctoring, the answer store)."""
        self._root.insertWidget(1, notice)

    def seal(self) -> None:
        """End time reached or submitted: nothing can be edited any more."""
        for pane in self.panes:
            pane.editor.setEnabled(False)
        self.submit_button.setEnabled(False)

    @staticmethod
    def clock_text(epoch_ms: int) -> str:
        return beijing_clock(epoch_ms)
