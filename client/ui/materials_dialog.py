"""应急材料 in proctor mode: webcam room photos (watermarked), emergency candidates, reason.

Opened from the proctor panel once a proctor has unlocked it. Capture and sending run on
worker threads; the submission is in the encrypted store before it is sent
(client/proctor/materials.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.i18n import _
from client.proctor.materials import (
    MaterialsOutbox,
    MaterialsWatermarkInfo,
    SendOutcome,
    Submission,
    parse_candidates,
)
from client.ui.tasks import run_in_background

log = logging.getLogger(__name__)

THUMB_WIDTH = 200


class MaterialsDialog(QDialog):
    """*capture(info)* returns watermarked JPEG bytes (blocking, camera);
    *watermark_info(center_name, center_address, room)* the watermark for a photo taken now.

    *center_name*/*center_address* come from the server (the login answer): then the
    fields are filled in and locked, so the evidence carries the center as the platform
    registered it. Without them (an offline login, an older server) the proctor types them.
    """

    def __init__(self, *, proctor_id: str, proctor_name: str, outbox: MaterialsOutbox,
                 capture: Callable[[MaterialsWatermarkInfo], bytes],
                 watermark_info: Callable[[str, str, str], MaterialsWatermarkInfo],
                 now_ms: Callable[[], int | None], deadline_text: str = "",
                 suggested_candidates: str = "", center_name: str = "",
                 center_address: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("materialsDialog")
        self.setWindowTitle(_("应急材料"))
        self.setModal(True)
        self.setMinimumWidth(640)
        self._proctor_id = proctor_id
        self._outbox = outbox
        self._capture = capture
        self._watermark_info = watermark_info
        self._now_ms = now_ms
        self.photos: list[bytes] = []
        self._taken_at_ms: int | None = None

        layout = QVBoxLayout(self)
        intro = QLabel(_("身份核验未通过的考场：请在开考 30 分钟后拍摄考场全景照片"
                         "（考生清晰可见），标记应急考生并填写原因，在考试时间单元结束前提交。"))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        who = QLabel(_("监考教师：{name}").format(name=proctor_name))
        layout.addWidget(who)
        self.deadline = QLabel(deadline_text)
        self.deadline.setObjectName("warning")
        self.deadline.setVisible(bool(deadline_text))
        layout.addWidget(self.deadline)

        form = QFormLayout()
        self.center_edit = QLineEdit(center_name)
        self.center_edit.setPlaceholderText(_("考点名称，印在照片水印中"))
        form.addRow(_("考点"), self.center_edit)
        self.center_address_edit = QLineEdit(center_address)
        self.center_address_edit.setPlaceholderText(_("考点地址，印在照片水印中"))
        form.addRow(_("考点地址"), self.center_address_edit)
        # Registered on the server: the watermark must say what the platform knows.
        self.center_edit.setReadOnly(bool(center_name))
        self.center_address_edit.setReadOnly(bool(center_name and center_address))
        self.room_edit = QLineEdit()
        self.room_edit.setPlaceholderText(_("例如 第03考场"))
        form.addRow(_("考场"), self.room_edit)
        self.candidates_edit = QPlainTextEdit(suggested_candidates)
        self.candidates_edit.setPlaceholderText(_("学号，每行一个"))
        self.candidates_edit.setMaximumHeight(90)
        form.addRow(_("应急考生"), self.candidates_edit)
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setPlaceholderText(
            _("例如：本考场 3 名考生人脸识别未通过，已人工核验身份证"))
        self.reason_edit.setMaximumHeight(90)
        form.addRow(_("原因"), self.reason_edit)
        layout.addLayout(form)

        self.photo_list = QListWidget()
        self.photo_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.photo_list.setIconSize(QPixmap(THUMB_WIDTH, THUMB_WIDTH * 3 // 4).size())
        self.photo_list.setMinimumHeight(180)
        layout.addWidget(self.photo_list)

        row = QHBoxLayout()
        self.capture_button = QPushButton(_("拍摄考场全景照片"))
        self.capture_button.clicked.connect(self._capture_clicked)
        self.submit_button = QPushButton(_("提交应急材料"))
        self.submit_button.setObjectName("primary")
        self.submit_button.clicked.connect(self._submit_clicked)
        close = QPushButton(_("关闭"))
        close.clicked.connect(self.reject)
        row.addWidget(self.capture_button)
        row.addStretch(1)
        row.addWidget(self.submit_button)
        row.addWidget(close)
        layout.addLayout(row)
        self.message = QLabel()
        self.message.setObjectName("actionMessage")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)

    # -- capture -----------------------------------------------------------------------
    def _capture_clicked(self) -> None:
        self.capture_button.setEnabled(False)
        self.message.setText(_("正在拍摄…"))
        info = self._watermark_info(self.center_edit.text().strip(),
                                    self.center_address_edit.text().strip(),
                                    self.room_edit.text().strip())
        run_in_background(lambda: self._capture(info), on_done=self.add_photo,
                          on_error=self._capture_failed)

    def add_photo(self, jpeg: Any) -> None:
        self.capture_button.setEnabled(True)
        self.photos.append(bytes(jpeg))
        self._taken_at_ms = self._taken_at_ms or self._now_ms()
        full = QPixmap()
        full.loadFromData(bytes(jpeg))
        pixmap = full.scaledToWidth(THUMB_WIDTH, Qt.TransformationMode.SmoothTransformation)
        item = QListWidgetItem(pixmap, _("照片 {n}").format(n=len(self.photos)))
        self.photo_list.addItem(item)
        self.message.setText(_("已拍摄 {n} 张照片").format(n=len(self.photos)))

    def _capture_failed(self, error: BaseException) -> None:
        self.capture_button.setEnabled(True)
        self.message.setText(_("拍摄失败：{error}").format(
            error=getattr(error, "message", None) or error))

    # -- submit ------------------------------------------------------------------------
    def _submit_clicked(self) -> None:
        submission = Submission(
            proctor_id=self._proctor_id, room=self.room_edit.text().strip(),
            reason=self.reason_edit.toPlainText().strip(),
            candidates=parse_candidates(self.candidates_edit.toPlainText()),
            photos=tuple(self.photos), taken_at_ms=self._taken_at_ms)
        try:
            submission.validate()
        except Exception as error:
            self.message.setText(getattr(error, "message", str(error)))
            return
        self.submit_button.setEnabled(False)
        self.message.setText(_("正在提交…"))
        run_in_background(lambda: self._outbox.submit(submission), on_done=self._submitted,
                          on_error=self._submit_failed)

    def _submitted(self, outcome: Any) -> None:
        assert isinstance(outcome, SendOutcome)
        if outcome.closed_message:
            self.message.setText(outcome.closed_message)
            return
        self.photos.clear()
        self.photo_list.clear()
        self._taken_at_ms = None
        self.submit_button.setEnabled(True)
        if outcome.pending:
            self.message.setText(_(
                "应急材料已保存在本机（{n} 份待上传），网络恢复后会自动提交").format(
                    n=outcome.pending))
        else:
            self.message.setText(_("应急材料已提交到服务器"))

    def _submit_failed(self, error: BaseException) -> None:
        self.submit_button.setEnabled(True)
        self.message.setText(_("提交失败：{error}").format(
            error=getattr(error, "message", None) or error))


def open_for_window(window: Any) -> str:
    """Open the dialog from the exam window's proctor panel (client/ui/main_window.py);
    returns the line the panel shows."""
    from client.camera.evidence import capture_evidence_photo
    from client.review.services import transport_for
    from client.timefmt import beijing_datetime

    panel = window.proctor_panel
    proctor = panel.mode.proctor if panel is not None else None
    if proctor is None:
        return _("请先解锁监考模式")
    session = window.session
    login = session.attempt.login
    checks = window.camera
    if checks is None:
        return _("本机未启用摄像头，请在考点管理页面用手机或电脑浏览器上传应急材料")
    source_factory = checks.source_factory or checks.selection().open_source

    def info(center: str, address: str, room: str) -> MaterialsWatermarkInfo:
        now = session.clock.now_ms() or 0
        return MaterialsWatermarkInfo(
            exam_time=f"{beijing_datetime(login.exam.start_ms)}-"
                      f"{beijing_datetime(login.exam.end_ms)[-5:]}",
            center_id=session.center_id, center_name=center or session.center_id, room=room,
            candidate_id="EMERGENCY", taken_at=beijing_datetime(now),
            proctor=f"{proctor.name}", center_address=address)

    dialog = MaterialsDialog(
        proctor_id=proctor.proctor_id, proctor_name=proctor.name,
        outbox=MaterialsOutbox(run_on_store=session.run_on_store,
                               post_json=transport_for(session).post_json),
        capture=lambda watermark: capture_evidence_photo(source_factory(), watermark).jpeg,
        watermark_info=info, now_ms=session.clock.now_ms,
        deadline_text=_("提交截止：考试时间单元结束（{end} 或之后由考点设定的时间）").format(
            end=beijing_datetime(login.exam.end_ms)),
        suggested_candidates=login.student_no if window.identity_result is not None
        and not window.identity_result.passed else "",
        center_name=login.center_name, center_address=login.center_address, parent=window)
    window.materials_dialog = dialog
    dialog.open()
    return _("已打开应急材料")
