"""One editor per question type; each reports a normalised answer value when it changes.

Values follow docs/contracts.md: single "B", multiple ["A", "C"], true_false True/False,
fill_blank ["x", "y"], essay "text"; None means no answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from client.i18n import spaced
from client.paper.model import Item, QuestionType
from client.paper.richtext import plain_text
from client.ui.limited_text import LimitedPlainTextEdit
from client.ui.richtext_view import RichTextLabel


class AnswerEditor(QWidget):
    """Base of the editors below; each has ``value()`` and ``set_value(value)``."""

    # value, coalesce: essays coalesce keystrokes (the store keeps the last one durable)
    valueChanged = Signal(object, bool)

    def focus_first(self) -> None:
        """Keyboard focus to this editor's first control (after PgDn/PgUp)."""
        proxy = self.focusProxy()
        if proxy is not None:
            proxy.setFocus(Qt.FocusReason.TabFocusReason)


def _clicker(button: QAbstractButton) -> Callable[[object], None]:
    """Clicking an option's text selects it, as clicking its button does."""

    def click(_event: object) -> None:
        button.click()

    return click


class ChoiceEditor(AnswerEditor):
    """Single or multiple choice: a button per option beside the option's rich text."""

    def __init__(self, item: Item, *, language: str, media: Mapping[str, bytes],
                 multiple: bool) -> None:
        super().__init__()
        self._multiple = multiple
        self._buttons: dict[str, QAbstractButton] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(not multiple)
        layout = QGridLayout(self)
        layout.setColumnStretch(1, 1)
        for row, option in enumerate(item.options):
            button: QAbstractButton = QCheckBox(option.id) if multiple else QRadioButton(option.id)
            button.setObjectName(f"option-{option.id}")
            spoken = plain_text(option.text.get(language), image_alt=True)
            button.setAccessibleName(f"{option.id}. {spoken}")
            self._group.addButton(button)
            self._buttons[option.id] = button
            label = RichTextLabel(option.text.get(language), media=media)
            label.setBuddy(button)
            label.mousePressEvent = _clicker(button)  # type: ignore[method-assign]
            layout.addWidget(button, row, 0)
            layout.addWidget(label, row, 1)
        self._group.buttonClicked.connect(lambda _button: self.valueChanged.emit(self.value(),
                                                                                False))
        if self._buttons:
            self.setFocusProxy(next(iter(self._buttons.values())))

    def value(self) -> Any:
        chosen = sorted(oid for oid, button in self._buttons.items() if button.isChecked())
        if self._multiple:
            return chosen or None
        return chosen[0] if chosen else None

    def set_value(self, value: Any) -> None:
        selected = set(value or []) if self._multiple else {value}
        for oid, button in self._buttons.items():
            button.setChecked(oid in selected)

    def button(self, option_id: str) -> QAbstractButton:
        return self._buttons[option_id]


class TrueFalseEditor(AnswerEditor):
    def __init__(self) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        self.true_button = QRadioButton(self.tr("正确"))
        self.false_button = QRadioButton(self.tr("错误"))
        self._group = QButtonGroup(self)
        for button in (self.true_button, self.false_button):
            self._group.addButton(button)
            layout.addWidget(button)
        layout.addStretch(1)
        self._group.buttonClicked.connect(lambda _b: self.valueChanged.emit(self.value(), False))
        self.setFocusProxy(self.true_button)

    def value(self) -> Any:
        if self.true_button.isChecked():
            return True
        if self.false_button.isChecked():
            return False
        return None

    def set_value(self, value: Any) -> None:
        self._group.setExclusive(False)
        self.true_button.setChecked(value is True)
        self.false_button.setChecked(value is False)
        self._group.setExclusive(True)


class FillBlankEditor(AnswerEditor):
    def __init__(self, item: Item) -> None:
        super().__init__()
        layout = QGridLayout(self)
        self.fields: list[QLineEdit] = []
        for index in range(item.blanks):
            label = QLabel(self.tr("第 {n} 空").format(n=index + 1))
            edit = QLineEdit()
            edit.setObjectName(f"blank-{index + 1}")
            edit.setAccessibleName(label.text())
            label.setBuddy(edit)
            edit.textEdited.connect(lambda _text: self.valueChanged.emit(self.value(), True))
            edit.editingFinished.connect(lambda: self.valueChanged.emit(self.value(), False))
            layout.addWidget(label, index, 0)
            layout.addWidget(edit, index, 1)
            self.fields.append(edit)
        if self.fields:
            self.setFocusProxy(self.fields[0])

    def value(self) -> Any:
        texts = [edit.text() for edit in self.fields]
        return texts if any(text.strip() for text in texts) else None

    def set_value(self, value: Any) -> None:
        for index, edit in enumerate(self.fields):
            edit.setText(value[index] if value and index < len(value) else "")


class EssayEditor(AnswerEditor):
    """The essay box. At the length limit input is refused at the cursor, never cut from
    the end; a paste is trimmed to the room left; the counter says which happened."""

    def __init__(self, item: Item) -> None:
        super().__init__()
        self._max_length = item.max_length
        layout = QVBoxLayout(self)
        self.text = LimitedPlainTextEdit(max_length=item.max_length)
        self.text.setObjectName("essay")
        self.text.setMinimumHeight(160)
        self.text.setTabChangesFocus(True)  # Tab leaves the box: keyboard-only use
        self.text.setAccessibleName(self.tr("简答作答区") if item.max_length is None else
                                    self.tr("简答作答区，最多 {limit} 字").format(
                                        limit=item.max_length))
        self.counter = QLabel()
        self.counter.setObjectName("counter")
        layout.addWidget(self.text)
        layout.addWidget(self.counter)
        self.setFocusProxy(self.text)
        self.text.textChanged.connect(self._on_text_changed)
        self.text.refused.connect(self._on_refused)
        # A last, non-coalesced save shortly after typing stops.
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(800)
        self._settle.timeout.connect(lambda: self.valueChanged.emit(self.value(), False))
        self._notice = ""
        self._update_counter()

    def _on_text_changed(self) -> None:
        self._notice = ""
        self._update_counter()
        self.valueChanged.emit(self.value(), True)
        self._settle.start()

    def _on_refused(self, dropped: int, pasted: bool) -> None:
        if pasted:
            self._notice = self.tr("粘贴的内容超出字数上限，只粘贴了前面部分（{n} 字未粘贴）"
                                   ).format(n=dropped)
        else:
            self._notice = self.tr("已达字数上限，不能再输入")
        self._update_counter()

    def _update_counter(self) -> None:
        count = self.text.length()
        if self._max_length is None:
            text = self.tr("已输入 {n} 字").format(n=count)
        else:
            text = self.tr("已输入 {n} / {limit} 字").format(n=count, limit=self._max_length)
        text = spaced(text, self._notice)
        self.counter.setText(text)
        full = self._max_length is not None and count >= self._max_length
        if self.counter.property("full") != ("true" if full else "false"):
            self.counter.setProperty("full", "true" if full else "false")
            self.counter.style().unpolish(self.counter)
            self.counter.style().polish(self.counter)

    def value(self) -> Any:
        text = self.text.toPlainText()
        return text if text.strip() else None

    def set_value(self, value: Any) -> None:
        self.text.blockSignals(True)
        self.text.setPlainText(value or "")
        self.text.blockSignals(False)
        self._update_counter()


Editor = ChoiceEditor | TrueFalseEditor | FillBlankEditor | EssayEditor


def editor_for(item: Item, *, language: str, media: Mapping[str, bytes]) -> Editor:
    if item.type is QuestionType.SINGLE:
        return ChoiceEditor(item, language=language, media=media, multiple=False)
    if item.type is QuestionType.MULTIPLE:
        return ChoiceEditor(item, language=language, media=media, multiple=True)
    if item.type is QuestionType.TRUE_FALSE:
        return TrueFalseEditor()
    if item.type is QuestionType.FILL_BLANK:
        return FillBlankEditor(item)
    return EssayEditor(item)
