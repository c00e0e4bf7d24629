"""答题: navigator grid, one question at a time, timer, save/sync state, zoom, submit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from client.i18n import N_, spaced
from client.paper.model import Item, Paper, QuestionType
from client.timefmt import beijing_clock, countdown
from client.ui import theme
from client.ui.answer_editors import Editor, editor_for
from client.ui.richtext_view import RichTextLabel
from client.ui.style import next_zoom, stylesheet

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


MESSAGE_MS = 8000  # how long a message (audio failure) stays in the notice slot


def is_answered(value: Any, item: Item | None = None) -> bool:
    """A fill-in counts as answered only when every blank is filled; other lists (multiple
    choice) when one option is chosen."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        filled = [bool(str(v).strip()) for v in value]
        if item is not None and item.type is QuestionType.FILL_BLANK:
            return len(filled) >= item.blanks and all(filled[: item.blanks])
        return any(filled)
    return True


class ElidedLabel(QLabel):
    """One line that ends in … when the bar is short (a long paper title at 150 % zoom),
    instead of being cut through a character; the whole text is in the tooltip."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._full = text
        self.setToolTip(text)
        self.setAccessibleName(text)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(80)
        self.setText(text)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight,
                                                   self.width()))


class NoticeSlot(QScrollArea):
    """The strip under the top bar for notices (camera, store, lockdown, reminders) and
    messages (audio). It keeps room for MIN_LINES lines, empty or not, so the usual notice
    that appears mid-exam never moves the question under the candidate's mouse. More
    notices than that make it grow, each notice at its full height, up to MAX_LINES lines
    (the question keeps most of a 1024x768 screen); beyond that the strip scrolls. A fixed
    height squeezed four notices into unreadable 12 px strips."""

    MIN_LINES = 2
    MAX_LINES = 6
    MAX_SHARE = 0.2  # of the window's height: the question keeps the rest at any zoom
    MARGIN = 8

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("noticeSlot")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.content = QWidget()
        self.content.setObjectName("noticeList")
        # The list is as tall as its notices at the slot's width (height-for-width), not
        # as its word-wrapped labels' narrow minimum, which made the strip always scroll.
        self.content.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        # The page's background shows through: the strip is not a box of its own.
        self.viewport().setAutoFillBackground(False)
        self.content.setAutoFillBackground(False)
        self._layout = QVBoxLayout(self.content)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setAccessibleName(self.tr("提示"))
        self.message.setVisible(False)
        self._layout.addWidget(self.message)
        self._layout.addStretch(1)
        self.setWidget(self.content)
        # A notice's text or visibility changing re-lays the list out: fit to it then.
        self.content.installEventFilter(self)
        self._clear = QTimer(self)
        self._clear.setSingleShot(True)
        self._clear.timeout.connect(self._clear_message)
        self.fit_height()

    def add(self, notice: QWidget) -> None:
        notice.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self._layout.insertWidget(self._layout.count() - 1, notice)
        self.fit_height()

    def notices(self) -> list[QWidget]:
        """The notices and the message, in the order shown (hidden ones included)."""
        items = (self._layout.itemAt(i) for i in range(self._layout.count()))
        widgets = (item.widget() for item in items if item is not None)
        return [widget for widget in widgets if widget is not None]

    def show_message(self, text: str, *, timeout_ms: int = MESSAGE_MS) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self._clear.start(timeout_ms)
        self.fit_height()

    def _clear_message(self) -> None:
        self.message.clear()
        self.message.setVisible(False)
        self.fit_height()

    def _line_height(self) -> int:
        self.message.ensurePolished()  # the page's sheet sets the notices' font (zoom)
        return self.message.fontMetrics().lineSpacing()

    def max_height(self) -> int:
        by_lines = self.MAX_LINES * self._line_height() + self.MARGIN
        return min(by_lines, int(self.window().height() * self.MAX_SHARE))

    def needed_height(self) -> int:
        """The height every visible notice needs at the slot's current width."""
        width = self.viewport().width()
        layout = self._layout
        if layout.hasHeightForWidth() and width > 0:
            return layout.heightForWidth(width)
        return layout.sizeHint().height()

    def fit_height(self) -> None:
        """At least MIN_LINES lines, at most max_height(), else what the notices need:
        set again when a notice changes, the width changes or the zoom changes."""
        line = self._line_height()
        low = self.MIN_LINES * line + self.MARGIN
        high = max(low, self.max_height())
        needed = self.needed_height()
        height = max(low, min(high, needed))
        if needed > high:
            # Scrolling: end on the last notice that fits whole, never half a line.
            bottoms = [widget.geometry().bottom() + 1 for widget in self.notices()
                       if widget.isVisibleTo(self.content)]
            fitting = [bottom for bottom in bottoms if bottom <= high]
            if fitting:
                height = max(low, max(fitting))
        if height != self.height() or self.minimumHeight() != height:
            self.setFixedHeight(height)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.content and event.type() == QEvent.Type.LayoutRequest:
            QTimer.singleShot(0, self, self.fit_height)
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            QTimer.singleShot(0, self, self.fit_height)


class QuestionPane(QWidget):
    """One question: number, type, score, stem, optional audio button, answer editor."""

    def __init__(self, *, number: int, item: Item, language: str, paper: Paper,
                 plays_left: int | None, on_play: Callable[[Item], None]) -> None:
        super().__init__()
        self.item = item
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        header = QLabel(spaced(self.tr("第 {n} 题").format(n=number),
                               self.tr(TYPE_NAMES[item.type]),
                               self.tr("（{score} 分）").format(score=f"{item.score:g}")))
        header.setObjectName("subtitle")
        header.setWordWrap(True)
        layout.addWidget(header)
        self.stem = RichTextLabel(item.stem.get(language), media=paper.media)
        self.stem.setObjectName("stem")
        self.stem.setAccessibleName(header.text())
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


SHORTCUTS = N_("快捷键：PgDn 下一题，PgUp 上一题，Ctrl+M 标记本题，Ctrl+= / Ctrl+- 放大/缩小，"
               "Tab 在答题区内移动")


class ExamPage(QWidget):
    answerChanged = Signal(str, object, bool)  # question id, value, coalesce
    submitRequested = Signal()
    playRequested = Signal(object)  # Item
    zoomChanged = Signal(float)
    flagsChanged = Signal(list)  # the marked question ids: kept with the answers

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
        self._font_scale = next_zoom(font_scale, step=0)

        root = QVBoxLayout(self)
        root.setContentsMargins(8, 8, 8, 8)
        root.setSpacing(6)
        root.addWidget(self._build_top_bar(candidate, language))
        self.notice_slot = NoticeSlot()
        root.addWidget(self.notice_slot)
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
            scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            scroll.setWidget(pane)
            self.stack.addWidget(scroll)
            self.panes.append(pane)
        card_layout.addWidget(self.stack, 1)
        card_layout.addLayout(self._build_bottom_bar())
        body.addWidget(question_card, 1)
        # The submit button last in the tab chain: after the question, not before it.
        self.setTabOrder(self.next_button, self.submit_button)

        shortcuts: list[tuple[str, Callable[[], None]]] = [
            ("PgDown", lambda: self.next_question(focus_editor=True)),
            ("PgUp", lambda: self.previous_question(focus_editor=True)),
            ("Ctrl+M", self.toggle_flag),
            ("Ctrl+=", lambda: self.zoom(+1)),
            ("Ctrl++", lambda: self.zoom(+1)),
            ("Ctrl+-", lambda: self.zoom(-1)),
            ("Ctrl+0", self.reset_zoom),
        ]
        for key, action in shortcuts:
            QShortcut(QKeySequence(key), self, action)
        self._apply_zoom()
        self.show_question(0)

    # -- construction -------------------------------------------------------------------

    def _build_top_bar(self, candidate: str, language: str) -> QWidget:
        bar = QFrame()
        bar.setObjectName("card")
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(10, 4, 10, 4)
        title = ElidedLabel(self.paper.title.get(language))
        title.setObjectName("paperTitle")
        layout.addWidget(title, 2)
        self.candidate_label = QLabel(candidate)
        # Zoomed in on a 1024 px wide screen the bar has no room for these on one line:
        # they wrap rather than lose their ends (the title elides: it is shown elsewhere).
        self.candidate_label.setWordWrap(True)
        layout.addWidget(self.candidate_label)
        layout.addStretch(1)
        self.save_state = QLabel(self.tr("答案已保存到本机"))
        self.save_state.setObjectName("saveState")
        self.save_state.setWordWrap(True)
        layout.addWidget(self.save_state)
        layout.addSpacing(12)
        self.zoom_out_button = QPushButton("A-")
        self.zoom_out_button.setToolTip(self.tr("缩小字号（{keys}）").format(keys="Ctrl+-"))
        self.zoom_out_button.setAccessibleName(self.tr("缩小字号"))
        self.zoom_out_button.clicked.connect(lambda: self.zoom(-1))
        self.zoom_level = QLabel()
        self.zoom_level.setObjectName("zoomLevel")
        self.zoom_level.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zoom_in_button = QPushButton("A+")
        self.zoom_in_button.setToolTip(self.tr("放大字号（{keys}）").format(keys="Ctrl+="))
        self.zoom_in_button.setAccessibleName(self.tr("放大字号"))
        self.zoom_in_button.clicked.connect(lambda: self.zoom(+1))
        self.contrast_button = QPushButton(self.tr("高对比度"))
        self.contrast_button.setCheckable(True)
        self.contrast_button.setChecked(theme.is_high_contrast())
        self.contrast_button.setAccessibleName(self.tr("高对比度显示"))
        self.contrast_button.toggled.connect(self.set_high_contrast)
        for widget in (self.zoom_out_button, self.zoom_level, self.zoom_in_button,
                       self.contrast_button):
            layout.addWidget(widget)
        layout.addSpacing(12)
        time_caption = QLabel(self.tr("剩余时间"))
        layout.addWidget(time_caption)
        self.timer = QLabel("--:--:--")
        self.timer.setObjectName("timer")
        self.timer.setAccessibleName(self.tr("剩余时间"))
        layout.addWidget(self.timer)
        return bar

    def _build_navigator(self) -> QWidget:
        card = QFrame()
        card.setObjectName("card")
        layout = QVBoxLayout(card)
        caption = QLabel(self.tr("答题卡"))
        caption.setObjectName("subtitle")
        layout.addWidget(caption)
        grid_host = QWidget()
        grid_host.setObjectName("navGrid")
        host_layout = QVBoxLayout(grid_host)
        host_layout.setContentsMargins(0, 0, 0, 0)
        grid = QGridLayout()
        grid.setSpacing(6)
        host_layout.addLayout(grid)
        host_layout.addStretch(1)  # rows stay together at the top, however tall the card
        self.nav_buttons: list[QPushButton] = []
        for index, _item in enumerate(self.items):
            button = QPushButton(str(index + 1))
            button.setObjectName("navButton")
            button.clicked.connect(lambda _checked=False, i=index: self.show_question(i))
            grid.addWidget(button, index // NAV_COLUMNS, index % NAV_COLUMNS)
            self.nav_buttons.append(button)
        # A long paper scrolls inside the answer card; the frame itself never scrolls.
        self.nav_scroll = QScrollArea()
        self.nav_scroll.setWidget(grid_host)
        self.nav_scroll.setWidgetResizable(True)
        self.nav_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.nav_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.nav_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.nav_scroll.viewport().setAutoFillBackground(False)
        grid_host.setAutoFillBackground(False)
        layout.addWidget(self.nav_scroll, 1)
        legend = QLabel(self.tr("绿色：已答　橙框：已标记"))
        legend.setObjectName("legend")
        legend.setWordWrap(True)
        layout.addWidget(legend)
        self.shortcuts_label = QLabel(self.tr(SHORTCUTS))
        self.shortcuts_label.setObjectName("legend")
        self.shortcuts_label.setWordWrap(True)
        layout.addWidget(self.shortcuts_label)
        self.progress_label = QLabel()
        layout.addWidget(self.progress_label)
        self.submit_button = QPushButton(self.tr("交卷"))
        self.submit_button.setObjectName("primary")
        self.submit_button.clicked.connect(self.submitRequested)
        layout.addWidget(self.submit_button)
        self.navigator = card
        return card

    def _navigator_width(self) -> int:
        """Five answer-sheet buttons (34 px at 100 %, scaled like the sheet) and margins."""
        button = round(34 * self._font_scale)
        return max(220, NAV_COLUMNS * (button + 6) + 44)

    def _build_bottom_bar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.previous_button = QPushButton(self.tr("上一题"))
        self.previous_button.setToolTip("PgUp")
        self.previous_button.clicked.connect(self.previous_question)
        self.flag_button = QPushButton()
        self.flag_button.setObjectName("flagButton")
        self.flag_button.setCheckable(True)
        self.flag_button.setToolTip("Ctrl+M")
        self.flag_button.clicked.connect(self.toggle_flag)
        self.next_button = QPushButton(self.tr("下一题"))
        self.next_button.setToolTip("PgDn")
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

    def show_question(self, index: int, *, focus_editor: bool = False) -> None:
        self.current = max(0, min(index, len(self.items) - 1))
        self.stack.setCurrentIndex(self.current)
        self.previous_button.setEnabled(self.current > 0)
        self.next_button.setEnabled(self.current < len(self.items) - 1)
        self._show_flag_state()
        self._refresh_navigator()
        if focus_editor:
            self.panes[self.current].editor.focus_first()

    def next_question(self, *, focus_editor: bool = False) -> None:
        self.show_question(self.current + 1, focus_editor=focus_editor)

    def previous_question(self, *, focus_editor: bool = False) -> None:
        self.show_question(self.current - 1, focus_editor=focus_editor)

    def toggle_flag(self) -> None:
        qid = self.items[self.current].id
        if qid in self.flagged:
            self.flagged.discard(qid)
        else:
            self.flagged.add(qid)
        self._show_flag_state()
        self._refresh_navigator()
        self.flagsChanged.emit(sorted(self.flagged))

    def set_flags(self, question_ids: list[str]) -> None:
        """The marks saved with the answers (after a restart or on another PC)."""
        known = {item.id for item in self.items}
        self.flagged = {qid for qid in question_ids if qid in known}
        self._show_flag_state()
        self._refresh_navigator()

    def _show_flag_state(self) -> None:
        flagged = self.items[self.current].id in self.flagged
        self.flag_button.setChecked(flagged)
        self.flag_button.setText(self.tr("★ 已标记（点击取消）") if flagged
                                 else self.tr("☆ 标记本题"))
        self.flag_button.setAccessibleName(self.flag_button.text())

    def _refresh_navigator(self) -> None:
        for index, (button, item) in enumerate(zip(self.nav_buttons, self.items, strict=True)):
            answered = is_answered(self.answers.get(item.id), item)
            flagged = item.id in self.flagged
            # WORKAROUND: string properties, not Python bools: PySide6 6.12 mis-counts
            # references of bool QVariants and can abort at interpreter exit.
            button.setProperty("answered", _flag(answered))
            button.setProperty("flagged", _flag(flagged))
            button.setProperty("current", _flag(index == self.current))
            state = self.tr("已答") if answered else self.tr("未答")
            if flagged:
                state += self.tr("，已标记")
            button.setAccessibleName(self.tr("第 {n} 题（{state}）").format(n=index + 1,
                                                                        state=state))
            button.style().unpolish(button)
            button.style().polish(button)
        answered_count = sum(1 for item in self.items
                             if is_answered(self.answers.get(item.id), item))
        self.progress_label.setText(self.tr("已答 {done} / {total} 题").format(
            done=answered_count, total=len(self.items)))

    def unanswered_numbers(self) -> list[int]:
        return [index + 1 for index, item in enumerate(self.items)
                if not is_answered(self.answers.get(item.id), item)]

    def flagged_numbers(self) -> list[int]:
        return [index + 1 for index, item in enumerate(self.items) if item.id in self.flagged]

    # -- zoom and theme -----------------------------------------------------------------

    @property
    def font_scale(self) -> float:
        return self._font_scale

    def zoom(self, steps: int) -> None:
        self._font_scale = next_zoom(self._font_scale, step=steps)
        self._apply_zoom()

    def reset_zoom(self) -> None:
        self._font_scale = 1.0
        self._apply_zoom()

    def set_high_contrast(self, enabled: bool) -> None:
        theme.apply_theme(high_contrast=enabled)
        self._apply_zoom()

    def _apply_zoom(self) -> None:
        """The whole sheet at this zoom, set on the page: every element scales, not only
        the question text."""
        self.setStyleSheet(stylesheet(scale=self._font_scale,
                                      high_contrast=theme.is_high_contrast()))
        percent = round(self._font_scale * 100)
        self.zoom_level.setText(f"{percent}%")
        self.zoom_level.setAccessibleName(self.tr("字号 {percent}%").format(percent=percent))
        self.navigator.setFixedWidth(self._navigator_width())
        for label in self.findChildren(RichTextLabel):  # images follow the text's zoom
            label.set_zoom(self._font_scale)
        self.zoom_out_button.setEnabled(self._font_scale > 0.8)
        self.zoom_in_button.setEnabled(self._font_scale < 2.0)
        self.ensurePolished()
        self.notice_slot.ensurePolished()
        self.notice_slot.fit_height()
        self.zoomChanged.emit(self._font_scale)

    # -- state shown --------------------------------------------------------------------

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

    def show_message(self, text: str) -> None:
        """A message for the candidate (audio cannot play) in the notice slot; the save
        indicator keeps saying whether answers are saved."""
        self.notice_slot.show_message(text)

    def set_plays_left(self, question_id: str, plays_left: int, *, playing: bool) -> None:
        for pane in self.panes:
            if pane.item.id == question_id:
                pane.set_plays_left(plays_left, playing=playing)

    def insert_notice(self, notice: QWidget) -> None:
        """A quiet notice (camera proctoring, the answer store, lockdown) in the notice
        slot: the page under it does not move unless more than two lines are shown."""
        self.notice_slot.add(notice)

    def seal(self) -> None:
        """End time reached or submitted: nothing can be edited any more."""
        for pane in self.panes:
            pane.editor.setEnabled(False)
        self.submit_button.setEnabled(False)

    @staticmethod
    def clock_text(epoch_ms: int) -> str:
        return beijing_clock(epoch_ms)
