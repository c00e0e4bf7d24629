"""Explain TLS failures the way exam centers meet them.

Two causes dominate (domain.md): the PC clock is far off, so a valid certificate looks
"not yet valid" or "expired"; or a stripped-down Windows lacks root certificates ("unable
to verify the first certificate"). The client ships its own CA bundle (certifi), so the
second case usually means a proxy or a center server with its own CA.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from client.errors import UserFacingError
from client.i18n import _
from client.timefmt import beijing_datetime

log = logging.getLogger(__name__)

_CLOCK_MARKERS = ("certificate is not yet valid", "certificate has expired")
_TRUST_MARKERS = (
    "unable to get local issuer certificate",
    "unable to verify the first certificate",
    "self signed certificate",
    "self-signed certificate",
    "certificate verify failed",
)


def describe_offset(offset_ms: int) -> str:
    """'慢 2 天 3 小时' style text for a clock difference (positive = PC ahead)."""
    seconds = abs(offset_ms) // 1000
    if seconds >= 60:
        # Minutes are what a proctor sets a clock by: 23 h 59 min 59.9 s is "1 day".
        seconds = round(abs(offset_ms) / 60_000) * 60
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = []
    if days:
        parts.append(_("{n} 天").format(n=days))
    if hours:
        parts.append(_("{n} 小时").format(n=hours))
    if minutes and not days:
        parts.append(_("{n} 分钟").format(n=minutes))
    if not parts:
        parts.append(_("{n} 秒").format(n=seconds))
    amount = " ".join(parts)
    if offset_ms > 0:
        return _("快了 {amount}").format(amount=amount)
    return _("慢了 {amount}").format(amount=amount)


def clock_wrong_message(offset_ms: int) -> str:
    return _("电脑时间不正确：比服务器时间{difference}。请监考教师把电脑时间调整为北京时间后重试"
             ).format(difference=describe_offset(offset_ms))


CLOCK_TOLERANCE_MS = 60_000  # the PC clock is "right" within this (docs/offline.md)
_HOSTNAME_MARKERS = ("hostname mismatch", "doesn't match", "does not match",
                     "ip address mismatch")


def diagnose_tls_failure(error_text: str, *,
                         measure_pc_offset_ms: Callable[[], int | None],
                         certificate_dates: Callable[[], tuple[int, int] | None] = lambda: None,
                         host: str = "",
                         wall_now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
                         ) -> UserFacingError:
    """Classify an SSL error. *measure_pc_offset_ms* asks the server's time without trust
    (PC minus server); *certificate_dates* reads the server certificate's validity (epoch
    ms, without trust). Together they say which one is wrong: the PC clock, or the
    certificate itself (expired / not yet valid at the server's own time)."""
    lowered = error_text.lower()
    if any(marker in lowered for marker in _HOSTNAME_MARKERS):
        return UserFacingError(
            "tls.hostname_mismatch",
            _("服务器证书上的名称与所连接的地址（{host}）不一致：请考点管理员核对 user.ini 中的"
              "服务器地址，或为该地址配置正确的证书").format(host=host or "?"),
            host=host, ssl_error=error_text)
    if any(marker in lowered for marker in _CLOCK_MARKERS):
        offset = measure_pc_offset_ms()
        if offset is not None and abs(offset) > CLOCK_TOLERANCE_MS:
            return UserFacingError("tls.clock_wrong", clock_wrong_message(offset),
                                   pc_offset_ms=offset, ssl_error=error_text)
        dates = certificate_dates()
        if offset is not None and dates is not None:
            # The PC clock is right: the certificate is outside its own validity.
            server_now = wall_now_ms() - offset
            not_before, not_after = dates
            if server_now < not_before:
                return UserFacingError(
                    "tls.certificate_not_yet_valid",
                    _("服务器证书尚未生效（生效时间 {time}），电脑时间正确。"
                      "请考点管理员检查服务器证书").format(time=_utc_text(not_before)),
                    pc_offset_ms=offset, not_before_ms=not_before, ssl_error=error_text)
            if server_now > not_after:
                return UserFacingError(
                    "tls.certificate_expired",
                    _("服务器证书已于 {time} 过期，电脑时间正确。请考点管理员更换服务器证书"
                      ).format(time=_utc_text(not_after)),
                    pc_offset_ms=offset, not_after_ms=not_after, ssl_error=error_text)
        return UserFacingError(
            "tls.clock_wrong",
            _("服务器证书显示为“尚未生效/已过期”，通常是电脑时间不正确。"
              "请把电脑时间调整为北京时间后重试"),
            ssl_error=error_text)
    if any(marker in lowered for marker in _TRUST_MARKERS):
        return UserFacingError(
            "tls.untrusted",
            _("无法验证服务器证书：本机缺少根证书或网络中有代理/拦截。考试客户端自带根证书库；"
              "若考点使用自建服务器，请管理员在 user.ini 的 [server] ca_file 中配置考点 CA 证书"),
            ssl_error=error_text)
    return UserFacingError("tls.failed",
                           _("与服务器的加密连接失败，请联系技术支持（{error}）").format(
                               error=error_text[:200]),
                           ssl_error=error_text)


def _utc_text(epoch_ms: int) -> str:
    return beijing_datetime(epoch_ms)
