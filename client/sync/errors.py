"""Network and server failures, each with a message a candidate or proctor can act on."""

from __future__ import annotations

from client.errors import UserFacingError
from client.i18n import _


class ServerUnreachable(UserFacingError):
    """No answer from the server (offline, DNS, timeout, reset). Work goes on locally."""

    def __init__(self, reason: str, *, message: str | None = None) -> None:
        super().__init__("net.offline", message or
                         _("无法连接考试服务器，答案已保存在本机，网络恢复后会自动上传"),
                         reason=reason)


class ServerRefused(UserFacingError):
    """The server answered with an error code (wrong password, not started, ...)."""

    def __init__(self, code: str, message: str, *, status: int, **detail: object) -> None:
        super().__init__(code, message, status=status, **detail)
        self.status = status


def message_for_server_error(error: str, detail: dict[str, object]) -> str:
    """Turn the server's error code into text in the candidate's language."""
    messages = {
        "wrong_password": _("密码错误，请重新输入。默认密码为身份证号后6位（末位X为大写）"),
        "not_registered": _("该考生当前没有可参加的考试，请确认考试批次或联系监考教师"),
        "second_login": _("该考生非首次登录，请监考教师联系主考/考点管理员授权登录"),
        "outside_center": _("请在考场范围内进行考试（服务器看到的地址：{ip}），"
                            "请考点管理员登记考点的全部出口 IP"),
        "not_started": _("考试尚未开始"),
        "exam_over": _("考试已结束"),
        "sealed": _("试卷已交卷，不能再修改答案"),
        "unauthorized": _("登录已失效，请重新登录"),
        "not_found": _("服务器上找不到该考试或试卷"),
        "identity_held": _("人脸核验未通过，须经监考老师批准后才能打开试卷"),
        "authorization_code_invalid": _("授权码不正确或已过期，请监考教师重新获取授权码"),
        "authorization_code_used": _("该授权码已在另一台电脑上使用过，请监考教师重新获取授权码"),
        "wrong_exam": _("该试卷不属于本场考试"),
        "not_submitted": _("试卷尚未提交"),
        "exam_ended": _("考试已结束"),
        "client_too_old": _("本机客户端版本 {have} 已不能用于本场考试（要求 {need} 或更高版本），"
                            "旧版本不再使用。请考点管理员从 {where} 下载最新版本客户端并安装"),
        "pledge_required": _("请先阅读并同意考试承诺书"),
        "pledge_changed": _("考试承诺书已更新，请重新下载试卷后阅读并同意"),
        "revoked": _("已在其他电脑登录，本机不能再作答"),
        "read_only": _("试卷已在另一台电脑上交卷，本机只能查看成绩"),
        # 429 at the start of an exam: logins are let in one after another (server
        # login gate). Calm on purpose: nothing is wrong and nothing is lost.
        "busy": _("考试服务器正在依次为考生登录，请稍候约 {seconds} 秒后再点击登录。"
                  "这不是错误，您的信息不会丢失"),
        "too_many_attempts": _("密码错误次数过多，请 {seconds} 秒后再试"),
    }
    text = messages.get(error, _("服务器返回错误：{code}"))
    return text.format(ip=detail.get("seen_ip", "?"), code=error,
                       have=detail.get("client_version", "?"),
                       need=detail.get("min_version", "?"),
                       where=detail.get("download_hint", "?"),
                       seconds=detail.get("retry_after_s", "?"))
