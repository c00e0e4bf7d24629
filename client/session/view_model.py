"""What the login, waiting and exam pages show about connection, time and authorization.

Qt-free: the widgets (client/ui) read these plain values and show or hide their fields.
Wiring, for the UI:

- login page: after ``session.login`` raised ``second_login`` (``session.phase`` is
  ``Phase.AUTHORIZING``), show the authorization-code field with
  ``login_state(session).authorization_message``; on entry call
  ``session.authorize_with_code(code)`` (blocking); meanwhile call
  ``session.retry_login()`` every ``APPROVAL_POLL_S`` (an admin may approve on the server).
- waiting page: when ``session.unlock()`` raised ``unlock.start_code_needed``
  (``session.needs_start_code``), show the start-code field and call
  ``session.unlock_with_start_code(code)``. (An offline session tries the server by
  itself every 10 s; if it comes back, ``unlock`` works the normal way.)
- every page: ``connection_banner(session)`` and ``clock_warning(session)``; the exam
  page's save indicator: ``sync_state_text(status)`` for each SyncStatus.
- waiting and exam pages: ``store_notices(session)`` (a recovered store, a data directory
  on the system drive), shown until the exam ends: the proctor must see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from client.i18n import _
from client.sync.pusher import SyncStatus
from client.sync.tls import clock_wrong_message
from client.timefmt import beijing_clock

if TYPE_CHECKING:
    from client.session.exam_session import ExamSession

APPROVAL_POLL_S = 5.0


@dataclass(frozen=True)
class LoginState:
    show_authorization_code: bool
    authorization_message: str
    show_start_code: bool
    start_code_message: str
    notice: str


def login_state(session: ExamSession) -> LoginState:
    from client.session.exam_session import Phase

    pending = session.authorization
    message = ""
    if session.phase is Phase.AUTHORIZING and pending is not None:
        message = _("该考生非首次登录。请监考教师输入授权码，或联系主考/考点管理员在服务器上批准"
                    "（请求编号 {request}，考生 {student_no}，电脑地址 {ip}）").format(
            request=pending.request_id if pending.request_id is not None else "-",
            student_no=pending.student_no or "-", ip=pending.seen_ip or "-")
        if pending.resume_window_ends_ms is not None:
            message += _("。请在 {time} 前完成授权，超时后试卷将自动提交").format(
                time=beijing_clock(pending.resume_window_ends_ms))
    start_message = ""
    if session.needs_start_code:
        start_message = _("无法连接考试服务器。请监考教师输入本场考试的开考码以打开试卷")
    return LoginState(show_authorization_code=bool(message), authorization_message=message,
                      show_start_code=session.needs_start_code,
                      start_code_message=start_message, notice=session.notice)


def connection_banner(session: ExamSession) -> str:
    """A line telling the candidate and proctor how this session reaches the server."""
    if session.offline_login and not session.online:
        return _("离线登录：服务器暂时无法连接，答案保存在本机，网络恢复后自动上传")
    return ""


def clock_warning(session: ExamSession) -> str:
    """The PC clock is more than 60 s off the server's: say by how much (empty if fine)."""
    reading = session.clock.reading()
    if reading is None or not reading.pc_clock_wrong:
        return ""
    return clock_wrong_message(reading.pc_offset_ms)


def store_notices(session: ExamSession) -> list[str]:
    """What the proctor must know about this PC's answer store, one line each: the store
    was recovered at login (how, and where the damaged file is), or the data directory
    is on the system drive or short of space (empty when all is well)."""
    notices: list[str] = []
    recovery = session.recovery_report
    if recovery is not None and (message := recovery.message()):
        notices.append(message)
        recovery.mark_shown()  # kept on disk until shown once (client/store/recovery.py)
    data_dir = session.data_dir_report
    if data_dir is not None:
        notices.extend(warning.message for warning in data_dir.warnings)
    return notices


def sync_state_text(status: SyncStatus | None) -> tuple[str, str]:
    """(state, text) of the save indicator: saved | synced | offline | refused."""
    if status is None or status.state == "pending":
        return "saved", _("答案已保存到本机，等待上传")
    if status.state == "synced":
        text = _("答案已保存并已同步")
        if status.last_synced_ms:
            text += " " + beijing_clock(status.last_synced_ms, seconds=True)
        return "synced", text
    if status.state == "offline":
        since = beijing_clock(status.offline_since_ms) if status.offline_since_ms else "--:--"
        return "offline", _("网络中断（自 {time} 起），答案已安全保存在本机").format(time=since)
    if status.error == "second_login":
        return "refused", _("答案已保存在本机；本机登录尚待监考教师授权，授权后自动上传")
    return "refused", _("答案已保存在本机，服务器暂未接收（{code}），将自动重试").format(
        code=status.error or "-")
