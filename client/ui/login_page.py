"""登录: student number or ID-card number, password; demo credentials when in demo mode."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.ui.layout import centered_card


class LoginPage(QWidget):
    loginRequested = Signal(str, str)  # username, password
    languageChanged = Signal(str)
    authorizationCodeEntered = Signal(str)  # the proctor's one-time code (second login)

    def __init__(self, *, server_url: str, demo_hint: str | None = None,
                 warnings: list[str] | None = None, language: str = "zh_CN") -> None:
        super().__init__()
        layout = centered_card(self, min_width=460)
        layout.setSpacing(12)

        title = QLabel(self.tr("考试客户端"))
        title.setObjectName("title")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        subtitle = QLabel(self.tr("考生登录"))
        subtitle.setObjectName("subtitle")
        subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(subtitle)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.username = QLineEdit()
        self.username.setPlaceholderText(self.tr("学号或身份证号"))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(self.tr("默认为身份证号后6位"))
        form.addRow(self.tr("用户名"), self.username)
        form.addRow(self.tr("密码"), self.password)
        layout.addLayout(form)

        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.status = QLabel()
        self.status.setObjectName("subtitle")
        self.status.setWordWrap(True)
        self.status.hide()
        layout.addWidget(self.status)

        self.login_button = QPushButton(self.tr("登录"))
        self.login_button.setObjectName("primary")
        self.login_button.setDefault(True)
        self.login_button.clicked.connect(self._submit)
        self.password.returnPressed.connect(self._submit)
        self.username.returnPressed.connect(self.password.setFocus)
        layout.addWidget(self.login_button)

        # Second login: the proctor types a one-time authorization code here.
        self.code_box = QFrame()
        code_layout = QVBoxLayout(self.code_box)
        code_layout.setContentsMargins(0, 0, 0, 0)
        self.code_message = QLabel()
        self.code_message.setObjectName("warning")
        self.code_message.setWordWrap(True)
        code_layout.addWidget(self.code_message)
        code_row = QHBoxLayout()
        self.code_edit = QLineEdit()
        self.code_edit.setObjectName("authorizationCode")
        self.code_edit.setPlaceholderText(self.tr("监考教师授权码"))
        self.code_button = QPushButton(self.tr("授权登录"))
        self.code_button.clicked.connect(self._submit_code)
        self.code_edit.returnPressed.connect(self._submit_code)
        code_row.addWidget(self.code_edit, 1)
        code_row.addWidget(self.code_button)
        code_layout.addLayout(code_row)
        self.code_box.hide()
        layout.addWidget(self.code_box)

        for text in warnings or []:
            warning = QLabel(text)
            warning.setObjectName("warning")
            warning.setWordWrap(True)
            layout.addWidget(warning)

        if demo_hint:
            hint = QLabel(demo_hint)
            hint.setObjectName("hint")
            hint.setWordWrap(True)
            hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(hint)

        footer = QHBoxLayout()
        server = QLabel(self.tr("服务器：{url}").format(url=server_url))
        server.setObjectName("subtitle")
        server.setStyleSheet("font-size: 12px;")
        footer.addWidget(server, 1)
        self.language = QComboBox()
        self.language.addItem("简体中文", "zh_CN")
        self.language.addItem("English", "en")
        self.language.setCurrentIndex(0 if language == "zh_CN" else 1)
        self.language.currentIndexChanged.connect(
            lambda _index: self.languageChanged.emit(self.language.currentData()))
        footer.addWidget(self.language)
        layout.addLayout(footer)

        # 429 busy: the button counts down, then the same login goes again by itself.
        self._retry_at = 0.0  # time.monotonic() of the automatic retry
        self._retry_timer = QTimer(self)
        self._retry_timer.setInterval(100)
        self._retry_timer.timeout.connect(self._count_down)

    def _submit(self) -> None:
        if self._retry_timer.isActive():
            return  # Enter while counting down: the retry is already on its way
        username = self.username.text().strip()
        password = self.password.text()
        if not username or not password:
            self.show_error(self.tr("请输入用户名和密码"))
            return
        self.set_busy(True)
        self.loginRequested.emit(username, password)

    def _submit_code(self) -> None:
        code = self.code_edit.text().strip()
        if code:
            self.code_button.setEnabled(False)
            self.authorizationCodeEntered.emit(code)

    def ask_for_authorization(self, message: str, *, error: str = "") -> None:
        self.set_busy(False)
        self.code_message.setText(message)
        self.code_box.show()
        self.code_button.setEnabled(True)
        if error:
            self.error.setText(error)
            self.error.show()
        else:
            self.error.hide()
        self.code_edit.setFocus()

    def set_busy(self, busy: bool) -> None:
        self.login_button.setEnabled(not busy)
        self.login_button.setText(self.tr("正在登录…") if busy else self.tr("登录"))
        if busy:
            self.error.hide()

    def wait_to_retry(self, *, seconds: float) -> None:
        """The server lets logins in one after another and said to come back later: a
        calm line instead of an error, the button counting down, then the same login."""
        self.error.hide()
        self.show_status(self.tr("考试服务器正在依次为考生登录，稍后将自动为您再次登录，无需操作。"
                                 "这不是错误，您的信息不会丢失"))
        self._retry_at = time.monotonic() + seconds
        self.login_button.setEnabled(False)
        self._count_down()
        self._retry_timer.start()

    def _count_down(self) -> None:
        left = self._retry_at - time.monotonic()
        if left > 0:
            self.login_button.setText(
                self.tr("{seconds} 秒后自动登录").format(seconds=math.ceil(left)))
            return
        self._retry_timer.stop()
        self.show_status("")
        self._submit()

    def show_status(self, message: str) -> None:
        """A neutral line under the form (e.g. 正在恢复考试…); empty hides it."""
        self.status.setText(message)
        self.status.setVisible(bool(message))

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        self.error.setText(message)
        self.error.show()
