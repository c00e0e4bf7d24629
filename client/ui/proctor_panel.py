"""监考面板 (proctor panel): unlock with a proctor's name + password, see the candidate's
state, export the offline answer file, authorize a re-login, approve entry, end.

Reached from any screen with Ctrl+Alt+Shift+P (``install_proctor_shortcut``) or a small
"监考" button; it opens locked, so a candidate who finds the shortcut gets a password
prompt and nothing else. The state machine, the password check and the log are Qt-free
(client/proctor); slow work (argon2 check, export to a USB stick) runs off the UI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from client.errors import UserFacingError
from client.export.exporter import ExportResult
from client.export.removable_drives import (
    ExportLocation,
    list_export_locations,
    order_locations,
)
from client.i18n import _
from client.proctor.candidate_status import CandidateStatus
from client.proctor.proctor_log import ProctorAction
from client.proctor.proctor_mode import ProctorMode, ProctorState
from client.proctor.verifiers import ProctorIdentity
from client.timefmt import beijing_clock
from client.ui.tasks import run_in_background

log = logging.getLogger(__name__)

PROCTOR_SHORTCUT = "Ctrl+Alt+Shift+P"
IDLE_POLL_MS = 1000



def _submission_text(state: str) -> str:
    return {"answering": _("作答中"), "sealed": _("考试已结束，正在交卷"),
            "submitted": _("已交卷"), "auto_submitted": _("已自动交卷"),
            "revoked": _("已在其他电脑登录，本机不能再作答")}.get(state, state)


def _choose_folder_dialog(parent: QWidget) -> Path | None:
    folder = QFileDialog.getExistingDirectory(parent, _("选择保存离线答卷的文件夹"))
    return Path(folder) if folder else None


def _time_text(epoch_ms: int | None) -> str:
    if epoch_ms is None:
        return _("从未同步")
    # Server time, shown as Beijing time like every other clock of the client (the PC's
    # own time zone may be anything).
    return beijing_clock(epoch_ms, seconds=True)


class ProctorPanel(QDialog):
    """The proctor's dialog. Every callback it is given runs on the UI thread, except
    *export* and *candidate_status*, which run on a worker thread (they read the store)."""

    def __init__(
        self,
        *,
        mode: ProctorMode,
        candidate_status: Callable[[], CandidateStatus],
        export: Callable[[Path], ExportResult],
        on_authorize_relogin: Callable[[ProctorIdentity], None],
        on_approve_entry: Callable[[ProctorIdentity], None] | None = None,
        on_exit_client: Callable[[ProctorIdentity], None] | None = None,
        locations: Callable[[], list[ExportLocation]] = list_export_locations,
        choose_folder: Callable[[QWidget], Path | None] = _choose_folder_dialog,
        support_actions: Sequence[tuple[str, Callable[[], str]]] = (),
        cards: Mapping[str, Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("proctorPanel")
        self.setWindowTitle(_("监考模式"))
        self.setModal(True)
        self.setMinimumWidth(560)
        self._mode = mode
        self._candidate_status = candidate_status
        self._export = export
        self._on_authorize_relogin = on_authorize_relogin
        self._on_approve_entry = on_approve_entry
        # Closes the client mid-exam; only reachable from the unlocked page.
        self._on_exit_client = on_exit_client
        self.exit_dialog: QMessageBox | None = None
        self._locations = locations
        # (button text, action returning a line to show): diagnostics, crash logs, ...
        self._support_actions = tuple(support_actions)
        # Proctors by real name (client/proctor/identity.py ProctorCard per proctor id).
        self._cards = dict(cards or {})
        self._choose_folder = choose_folder
        self._busy = False
        self.last_export: ExportResult | None = None

        self._stack = QStackedWidget()
        self._stack.addWidget(self._build_unlock_page())
        # The unlocked page scrolls: with every action it is taller than a 1366x768 lab
        # screen, and a cut-off panel hid its last row of buttons.
        self._main_scroll = QScrollArea()
        self._main_scroll.setObjectName("proctorMain")
        self._main_scroll.setAccessibleName(_("监考模式"))  # it takes Tab focus to scroll
        self._main_scroll.setWidgetResizable(True)
        self._main_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self._main_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._main_page = self._build_main_page()
        self._main_scroll.setWidget(self._main_page)
        self._stack.addWidget(self._main_scroll)
        self._outer_layout = QVBoxLayout(self)
        self._outer_layout.addWidget(self._stack)
        self._size_to_page()

        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(IDLE_POLL_MS)
        self._idle_timer.timeout.connect(self._poll_idle)
        self._idle_timer.start()
        # Any key or click inside the panel counts as the proctor still being there.
        for widget in [self, *self.findChildren(QWidget)]:
            widget.installEventFilter(self)
        self._show_unlock()

    # -- pages -------------------------------------------------------------------------
    def _build_unlock_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        hint = QLabel(_("仅限监考教师使用。请输入监考教师姓名和密码。"))
        hint.setWordWrap(True)
        form.addRow(hint)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("proctorName")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("proctorPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(_("监考教师姓名"), self.name_edit)
        form.addRow(_("密码"), self.password_edit)
        self.unlock_error = QLabel()
        self.unlock_error.setObjectName("error")
        self.unlock_error.setWordWrap(True)
        form.addRow(self.unlock_error)
        buttons = QHBoxLayout()
        self.unlock_button = QPushButton(_("解锁"))
        self.unlock_button.setObjectName("primary")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self._unlock)
        self.password_edit.returnPressed.connect(self._unlock)
        self.cancel_button = QPushButton(_("关闭"))
        self.cancel_button.clicked.connect(self.end_proctor_mode)
        buttons.addWidget(self.unlock_button)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        return page

    def _build_main_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.proctor_label = QLabel()
        layout.addWidget(self.proctor_label)

        state_box = QGroupBox(_("考生状态"))
        state_form = QFormLayout(state_box)
        self.status_labels: dict[str, QLabel] = {}
        for key, title in (("candidate", _("考生")), ("exam", _("考试")),
                           ("answers", _("已保存答案")), ("sync", _("同步状态")),
                           ("submission", _("交卷状态")), ("away", _("切屏记录")),
                           ("integrity", _("环境检测")),
                           ("identity", _("身份核验"))):
            label = QLabel("…")
            label.setObjectName(f"status_{key}")
            label.setWordWrap(True)
            self.status_labels[key] = label
            state_form.addRow(title, label)
        self.refresh_button = QPushButton(_("刷新"))
        self.refresh_button.clicked.connect(self.refresh_status)
        state_form.addRow(self.refresh_button)
        layout.addWidget(state_box)

        export_box = QGroupBox(_("导出离线答卷"))
        export_layout = QVBoxLayout(export_box)
        export_layout.addWidget(QLabel(_("保存位置（U盘排在最前）：")))
        self.location_list = QListWidget()
        self.location_list.setObjectName("exportLocations")
        # A few drives at a time: the list must not take the height the buttons need.
        rows = self.location_list.fontMetrics().height() + 8
        self.location_list.setMaximumHeight(rows * 4 + 2 * self.location_list.frameWidth())
        export_layout.addWidget(self.location_list)
        row = QHBoxLayout()
        self.other_folder_button = QPushButton(_("其他文件夹…"))
        self.other_folder_button.clicked.connect(self._pick_other_folder)
        self.rescan_button = QPushButton(_("重新检测U盘"))
        self.rescan_button.clicked.connect(self._fill_locations)
        self.export_button = QPushButton(_("导出离线答卷"))
        self.export_button.setObjectName("primary")
        self.export_button.clicked.connect(self._export_clicked)
        row.addWidget(self.rescan_button)
        row.addWidget(self.other_folder_button)
        row.addStretch(1)
        row.addWidget(self.export_button)
        export_layout.addLayout(row)
        self.export_result = QLabel()
        self.export_result.setObjectName("exportResult")
        self.export_result.setWordWrap(True)
        self.export_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        export_layout.addWidget(self.export_result)
        layout.addWidget(export_box)

        actions = QHBoxLayout()
        self.relogin_button = QPushButton(_("授权重新登录"))
        self.relogin_button.clicked.connect(self._authorize_relogin)
        self.approve_button = QPushButton(_("批准入场（人工核验身份）"))
        self.approve_button.clicked.connect(self._approve_entry)
        self.lock_button = QPushButton(_("锁定"))
        self.lock_button.clicked.connect(self._lock_clicked)
        self.end_button = QPushButton(_("结束监考模式"))
        self.end_button.clicked.connect(self.end_proctor_mode)
        for button in (self.relogin_button, self.approve_button, self.lock_button,
                       self.end_button):
            actions.addWidget(button)
        layout.addLayout(actions)
        # Support actions on the left, the exit apart on the right of the same row.
        support = QHBoxLayout()
        for text, action in self._support_actions:
            button = QPushButton(text)
            button.clicked.connect(lambda _checked=False, act=action, t=text:
                                   self._run_support_action(t, act))
            support.addWidget(button)
        support.addStretch(1)
        self.exit_button = QPushButton(_("退出考试客户端（答案已保存在本机）"))
        self.exit_button.setObjectName("exitClient")
        self.exit_button.clicked.connect(self._exit_clicked)
        support.addWidget(self.exit_button)
        layout.addLayout(support)
        # Only now that they have a parent: setVisible(True) on a parentless button shows
        # it as a window of its own for a moment, which took the activation from the exam
        # window whenever the panel was built (the exam saw a focus loss).
        self.approve_button.setVisible(self._on_approve_entry is not None)
        self.exit_button.setVisible(self._on_exit_client is not None)
        self.action_message = QLabel()
        self.action_message.setObjectName("actionMessage")
        self.action_message.setWordWrap(True)
        layout.addWidget(self.action_message)
        return page

    def _run_support_action(self, text: str, action: Callable[[], str]) -> None:
        """Support tools (diagnostics zip, crash logs): logged like every proctor action."""
        self._mode.touch()
        try:
            outcome = action()
        except Exception as exc:  # a support tool failing must not close proctor mode
            log.exception("proctor support action %s failed", text)
            outcome = _("操作失败：{error}").format(error=exc)
        self.action_message.setText(outcome)

    # -- state -------------------------------------------------------------------------
    @property
    def mode(self) -> ProctorMode:
        return self._mode

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        screen = self.screen()
        if screen is not None:
            self.fit_to_screen(screen.availableGeometry())

    def fit_to_screen(self, available: QRect) -> None:
        """Unlocked: as tall as the page needs, but never taller than the screen (the page
        scrolls then); locked: as small as the password prompt. Placed inside the screen."""
        page = self._main_page
        frame_extra = self.frameGeometry().height() - self.geometry().height()
        if self.is_unlocked():
            margins = self._outer_layout.contentsMargins()
            room = available.height() - frame_extra - margins.top() - margins.bottom()
            self._main_scroll.setMinimumHeight(max(200, min(page.sizeHint().height(), room)))
            # Room for the scroll bar beside the page, so it never covers a button's edge.
            self._main_scroll.setMinimumWidth(page.sizeHint().width()
                                              + self._main_scroll.verticalScrollBar()
                                              .sizeHint().width())
        else:  # the password prompt: as small as it is (see _size_to_page)
            self._main_scroll.setMinimumSize(0, 0)
        self.setMaximumHeight(max(240, available.height() - frame_extra))
        # WORKAROUND: the layout applies the new minimum only at its next LayoutRequest;
        # until then the dialog keeps the minimum of the page's full height, which beats
        # the maximum just set: over the exam window the panel came out taller than a
        # 1024x768 screen (774 px).
        self._stack.updateGeometry()
        self._outer_layout.activate()
        # Not adjustSize(): for a window it keeps the current size when the new hint is
        # larger than 2/3 of the screen, which left the panel at its old height.
        self.resize(self.sizeHint().expandedTo(self.minimumSize()).boundedTo(
            self.maximumSize()))
        lowest = available.bottom() - self.frameGeometry().height()
        top = max(available.top(), min(self.y(), lowest))
        # Sideways too: the English page is nearly 1000 px wide, and centred over the exam
        # window's old position it ran off a 1024 px screen's right edge.
        rightmost = available.right() - self.frameGeometry().width()
        left = max(available.left(), min(self.x(), rightmost))
        self.move(left, top)

    def _size_to_page(self) -> None:
        """The panel as large as the page it shows: locked, a small password prompt, not
        the unlocked page's height (up to a whole screen) of empty space."""
        current = self._stack.currentWidget()
        for index in range(self._stack.count()):
            page = self._stack.widget(index)
            if page is None:
                continue
            ignored = page is not current
            policy = page.sizePolicy()
            policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored if ignored
                                       else QSizePolicy.Policy.Preferred)
            policy.setVerticalPolicy(QSizePolicy.Policy.Ignored if ignored
                                     else QSizePolicy.Policy.Preferred)
            page.setSizePolicy(policy)
        screen = self.screen()
        if self.isVisible() and screen is not None:
            self.fit_to_screen(screen.availableGeometry())

    def _show_unlock(self, message: str = "") -> None:
        self.password_edit.clear()
        self.unlock_error.setText(message)
        self._stack.setCurrentIndex(0)
        self._size_to_page()
        self.name_edit.setFocus()

    def _show_main(self, identity: ProctorIdentity) -> None:
        card = self._cards.get(identity.proctor_id)
        if card is not None and card.id_number_masked:
            self.proctor_label.setText(_("监考教师：{name}（身份证号 {id_number}）").format(
                name=identity.name, id_number=card.id_number_masked))
        else:
            self.proctor_label.setText(_("监考教师：{name}").format(name=identity.name))
        score = getattr(self._mode.last_face_match, "score", None)
        if score is not None:  # the exam asked for the proctor's face on unlock
            self.proctor_label.setText(self.proctor_label.text() + "\n" + _(
                "人脸比对通过：与监考教师照片的相似度 {score:.2f}（要求 {threshold:.2f}）").format(
                    score=score, threshold=getattr(self._mode.last_face_match, "threshold", 0.0)))
        self.export_result.clear()
        self.action_message.clear()
        self._stack.setCurrentIndex(1)
        self._size_to_page()  # the unlocked page is much taller
        self._fill_locations()
        self.refresh_status()

    def is_unlocked(self) -> bool:
        return self._stack.currentIndex() == 1

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress):
            self._mode.touch()
        return super().eventFilter(watched, event)

    def _poll_idle(self) -> None:
        if self.is_unlocked() and self._mode.check_idle():
            self._show_unlock(_("长时间无操作，监考模式已自动锁定"))

    # -- unlock ------------------------------------------------------------------------
    def _unlock(self) -> None:
        if self._busy:
            return
        name, password = self.name_edit.text(), self.password_edit.text()
        if not name.strip() or not password:
            self.unlock_error.setText(_("请输入监考教师姓名和密码"))
            return
        self._set_busy(True)
        self.unlock_error.setText(_("正在验证…"))
        run_in_background(lambda: self._mode.unlock(name=name, password=password),
                          on_done=self._unlocked, on_error=self._unlock_failed)

    def _unlocked(self, identity: ProctorIdentity) -> None:
        self._set_busy(False)
        self._show_main(identity)

    def _unlock_failed(self, error: BaseException) -> None:
        self._set_busy(False)
        if self._mode.state is ProctorState.ENDED:
            return
        self._show_unlock(error.message if isinstance(error, UserFacingError) else str(error))

    # -- candidate state ---------------------------------------------------------------
    def refresh_status(self) -> None:
        run_in_background(self._candidate_status, on_done=self._show_status,
                          on_error=self._status_failed)

    def _show_status(self, status: CandidateStatus) -> None:
        labels = self.status_labels
        labels["candidate"].setText(f"{status.candidate_no} {status.candidate_name}")
        labels["exam"].setText(_("{title}（{exam_id}）").format(title=status.exam_title,
                                                               exam_id=status.exam_id))
        labels["answers"].setText(_("已答 {answered}/{total} 题，共保存 {revisions} 次修改").format(
            answered=status.answered, total=status.question_total,
            revisions=status.revisions_saved))
        if status.unsynced:
            sync = _("{count} 次修改尚未同步；最后同步于 {time}").format(
                count=status.unsynced, time=_time_text(status.synced_up_to_server_ms))
        else:
            sync = _("全部已同步（{time}）").format(time=_time_text(status.synced_up_to_server_ms))
        if status.file_importable is True:
            sync += "\n" + _("本机导出的离线答卷可被服务器导入")
        elif status.file_importable is False:
            sync += "\n" + _(
                "注意：本机的答卷签名密钥尚未在服务器登记，导出的离线答卷暂时无法导入；"
                "请保持联网直至登记完成，或联系考点管理员")
        labels["sync"].setText(sync)
        labels["submission"].setText(_submission_text(status.submission))
        labels["away"].setText(_("考试开始后记录") if status.away is None
                               else status.away.proctor_text())
        labels["integrity"].setText(status.integrity)
        labels["identity"].setText(status.identity)

    def _status_failed(self, error: BaseException) -> None:
        text = error.message if isinstance(error, UserFacingError) else str(error)
        self.status_labels["answers"].setText(_("无法读取考生状态：{error}").format(error=text))

    # -- export ------------------------------------------------------------------------
    def _fill_locations(self) -> None:
        self.location_list.clear()
        for location in order_locations(self._locations()):
            self._add_location(location)
        if self.location_list.count():
            self.location_list.setCurrentRow(0)

    def _add_location(self, location: ExportLocation) -> QListWidgetItem:
        item = QListWidgetItem(f"{location.label}  —  {location.path}")
        item.setData(Qt.ItemDataRole.UserRole, str(location.path))
        self.location_list.addItem(item)
        return item

    def _pick_other_folder(self) -> None:
        self._mode.touch()
        folder = self._choose_folder(self)
        if folder is None:
            return
        item = self._add_location(ExportLocation(path=folder, label=_("其他文件夹"),
                                                 removable=False))
        self.location_list.setCurrentItem(item)

    def selected_folder(self) -> Path | None:
        item = self.location_list.currentItem()
        return Path(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _export_clicked(self) -> None:
        if self._busy:
            return
        folder = self.selected_folder()
        if folder is None:
            self.export_result.setText(_("请先选择保存位置"))
            return
        if not self._authorized(ProctorAction.EXPORTED):
            return
        self._set_busy(True)
        self.export_result.setText(_("正在导出…请勿拔出U盘"))
        run_in_background(lambda: self._export(folder), on_done=self._exported,
                          on_error=lambda error: self._export_failed(error, folder))

    def _exported(self, result: ExportResult) -> None:
        self._set_busy(False)
        self.last_export = result
        self._mode.record(ProctorAction.EXPORTED, file_name=result.file_name,
                          folder=str(result.path.parent), sha256=result.sha256,
                          revisions=result.revision_count, size=result.size)
        self.export_result.setText(_(
            "已导出并校验：{path}\n共 {questions} 题、{revisions} 次修改，{size} 字节。"
            "请勿修改文件名，交给考点管理员上传。").format(
                path=result.path, questions=result.question_count,
                revisions=result.revision_count, size=result.size))

    def _export_failed(self, error: BaseException, folder: Path) -> None:
        self._set_busy(False)
        code = error.code if isinstance(error, UserFacingError) else type(error).__name__
        self._mode.record(ProctorAction.EXPORT_FAILED, code=code, folder=str(folder))
        text = error.message if isinstance(error, UserFacingError) else str(error)
        self.export_result.setText(_("导出失败：{error}").format(error=text))

    # -- other actions -----------------------------------------------------------------
    def _authorized(self, action: ProctorAction) -> ProctorIdentity | None:
        try:
            return self._mode.authorize(action)
        except UserFacingError as exc:
            self._show_unlock(exc.message)
            return None

    def _authorize_relogin(self) -> None:
        identity = self._authorized(ProctorAction.RELOGIN_AUTHORIZED)
        if identity is None:
            return
        try:
            self._on_authorize_relogin(identity)
        except UserFacingError as exc:
            self.action_message.setText(exc.message)
            return
        self._mode.record(ProctorAction.RELOGIN_AUTHORIZED)
        self.action_message.setText(_("已授权该考生重新登录"))

    def _approve_entry(self) -> None:
        if self._on_approve_entry is None:
            return
        identity = self._authorized(ProctorAction.ENTRY_APPROVED)
        if identity is None:
            return
        try:
            self._on_approve_entry(identity)
        except UserFacingError as exc:
            self.action_message.setText(exc.message)
            return
        self._mode.record(ProctorAction.ENTRY_APPROVED)
        self.action_message.setText(_("已批准入场"))

    def _exit_clicked(self) -> None:
        """Asked first, without blocking (open(), not exec()): a nested event loop would
        stall the saves and the lockdown's timers while the proctor reads."""
        if self._on_exit_client is None or self._busy:
            return
        if self._authorized(ProctorAction.CLIENT_EXITED) is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning, _("退出考试客户端"),
            _("考生的答案已保存在本机，退出后不会丢失。\n\n"
              "退出后，考生需由监考教师授权才能重新登录，可在本机或另一台电脑上继续作答。\n"
              "考试计时不会暂停。\n\n确定退出考试客户端吗？"),
            QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("exitConfirm")
        confirm = box.addButton(_("退出考试客户端"), QMessageBox.ButtonRole.AcceptRole)
        confirm.setObjectName("exitConfirmButton")
        cancel = box.addButton(_("取消"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(cancel)  # Enter must not close a candidate's exam
        box.setEscapeButton(cancel)
        box.accepted.connect(self._exit_confirmed)
        self.exit_dialog = box
        box.open()

    def _exit_confirmed(self) -> None:
        # Authorized again: the panel may have locked itself while the dialog was open.
        identity = self._authorized(ProctorAction.CLIENT_EXITED)
        if identity is None or self._on_exit_client is None:
            return
        self._mode.record(ProctorAction.CLIENT_EXITED, name=identity.name)
        self.action_message.setText(_("正在退出考试客户端…"))
        self._set_busy(True)
        self._on_exit_client(identity)

    def _lock_clicked(self) -> None:
        self._mode.lock()
        self._show_unlock()

    def end_proctor_mode(self) -> None:
        if self._busy:
            return  # an export is writing to the stick: let it finish first
        self._mode.end()
        self._idle_timer.stop()
        self.accept()

    def finish_for_exit(self) -> None:
        """The client is closing on the proctor's word: proctor mode ends with it."""
        self._mode.end()
        self._idle_timer.stop()
        self._busy = False
        self.accept()

    def reject(self) -> None:  # Esc and the window's close button end proctor mode too
        self.end_proctor_mode()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for button in (self.unlock_button, self.export_button, self.end_button,
                       self.cancel_button, self.relogin_button, self.approve_button,
                       self.lock_button, self.exit_button):
            button.setEnabled(not busy)


def install_proctor_shortcut(window: QWidget, open_panel: Callable[[], None]) -> QShortcut:
    """Ctrl+Alt+Shift+P opens the (locked) proctor panel from any screen of the app."""
    shortcut = QShortcut(QKeySequence(PROCTOR_SHORTCUT), window)
    shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
    shortcut.activated.connect(open_panel)
    return shortcut


def proctor_button(parent: QWidget, open_panel: Callable[[], None]) -> QPushButton:
    """The discreet alternative to the shortcut: a small flat "监考" button."""
    button = QPushButton(_("监考"), parent)
    button.setObjectName("proctorButton")
    button.setFlat(True)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.setToolTip(_("监考教师专用"))
    button.clicked.connect(open_panel)
    return button
