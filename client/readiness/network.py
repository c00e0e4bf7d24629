"""Checks against the exam server: reachable, TLS, PC clock, center IP registered.

The server is asked once through the client's own HTTP client (client.sync.api.ExamApi,
same CA bundle, proxy and timeouts as an exam), so "reachable" here means reachable for
the exam. When TLS fails, the certificate is fetched again WITHOUT verification only to
explain the failure (its dates and issuer); nothing from that connection is trusted.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import requests
from cryptography import x509

from client.errors import UserFacingError
from client.i18n import _
from client.readiness.result import CheckResult, Status
from client.sync.api import API_PREFIX, ExamApi, ca_bundle
from client.sync.clock import PC_CLOCK_TOLERANCE_MS, ServerClock
from client.sync.tls import describe_offset
from client.timefmt import beijing_datetime

# Exam timing uses server time, so a wrong PC clock does not stop the exam; but from a
# day off, certificates start to look "not yet valid"/"expired" near their boundaries.
CLOCK_FAIL_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class CertificateFacts:
    subject: str
    issuer: str
    not_before_ms: int
    not_after_ms: int


@dataclass(frozen=True)
class ServerFacts:
    """What one round of questions to the server found out."""

    url: str
    reachable: bool
    latency_ms: int | None = None
    error_code: str | None = None        # UserFacingError code (net.offline, tls.*, ...)
    error_message: str | None = None
    error_detail: dict[str, Any] = field(default_factory=dict)
    server_ms: int | None = None
    pc_offset_ms: int | None = None      # PC clock minus server clock
    clock_verified: bool = True          # False: measured over an unverified connection
    certificate: CertificateFacts | None = None
    whoami: dict[str, Any] | None = None  # GET /centers/{id}/whoami answer
    whoami_error: str | None = None

    @property
    def is_https(self) -> bool:
        return urlparse(self.url).scheme == "https"

    @property
    def tls_failed(self) -> bool:
        return bool(self.error_code and self.error_code.startswith("tls."))


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def fetch_certificate(url: str, *, timeout_s: float) -> CertificateFacts | None:
    """The server's certificate, fetched without verification, through the proxy if any."""
    parts = urlparse(url)
    host = parts.hostname or ""
    port = parts.port or 443
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # diagnosis only: read the dates and the issuer
    proxy = requests.utils.get_environ_proxies(url).get("https")
    try:
        if proxy:
            proxy_parts = urlparse(proxy if "://" in proxy else f"http://{proxy}")
            conn = http.client.HTTPSConnection(proxy_parts.hostname or "",
                                               proxy_parts.port or 8080,
                                               context=context, timeout=timeout_s)
            conn.set_tunnel(host, port)
            conn.connect()
            assert isinstance(conn.sock, ssl.SSLSocket)
            der = conn.sock.getpeercert(binary_form=True)
            conn.close()
        else:
            with socket.create_connection((host, port), timeout=timeout_s) as raw, \
                    context.wrap_socket(raw, server_hostname=host) as tls:
                der = tls.getpeercert(binary_form=True)
    except (OSError, http.client.HTTPException):
        return None
    if not der:
        return None
    cert = x509.load_der_x509_certificate(der)
    return CertificateFacts(
        subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
        not_before_ms=int(cert.not_valid_before_utc.timestamp() * 1000),
        not_after_ms=int(cert.not_valid_after_utc.timestamp() * 1000))


def _unverified_server_ms(url: str, *, timeout_s: float) -> int | None:
    """Server time over an unverified connection: only to tell a clock problem apart."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            response = requests.get(f"{url}{API_PREFIX}/time", timeout=timeout_s,
                                    verify=False)  # diagnosis only
        return int(response.json()["epoch_ms"])
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return None


def network_reason(error: BaseException) -> str:
    """Name the cause of an unreachable server the way an admin can act on it."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(f"{type(e).__name__}: {e}" for e in chain)
    if "ProxyError" in text:
        return _("代理服务器拒绝或无法转发连接")
    if "NameResolutionError" in text or "getaddrinfo" in text or "Name or service" in text:
        return _("域名解析失败（DNS）")
    if "ConnectTimeout" in text or "timed out" in text:
        return _("连接超时（防火墙拦截或网络不通）")
    if "Connection refused" in text or "ConnectionRefused" in text or "10061" in text:
        return _("连接被拒绝（地址或端口错误，或服务器未运行）")
    return f"{type(chain[-1]).__name__}: {chain[-1]}"[:200]


def whoami(api: ExamApi, *, center_id: str, verify: str | bool) -> dict[str, Any]:
    """GET /centers/{center_id}/whoami: the IP the server sees and whether it is registered."""
    response = api.session.get(
        f"{api.base_url}{API_PREFIX}/centers/{quote(center_id, safe='')}/whoami",
        timeout=api.timeout_s, verify=verify)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def probe_server(*, url: str, center_id: str, ca_file: Path | None, cache_dir: Path,
                 timeout_s: float) -> ServerFacts:
    """Ask the server for its time (reachability, TLS, clock) and for this PC's IP."""
    try:
        verify: str | bool = ca_bundle(ca_file, cache_dir=cache_dir)
    except OSError as exc:
        return ServerFacts(url=url, reachable=False, error_code="tls.ca_file_unreadable",
                           error_message=_("无法读取 CA 证书文件 {path}：{error}").format(
                               path=ca_file, error=exc),
                           error_detail={"ca_file": str(ca_file)})
    clock = ServerClock()
    api = ExamApi(url, clock=clock, verify=verify, timeout_s=timeout_s)
    started = time.monotonic()
    https = urlparse(url).scheme == "https"
    try:
        server_ms = api.server_time_ms()
    except UserFacingError as exc:
        # Only a TLS failure is worth a second handshake; an unreachable server would just
        # make the check wait for another timeout.
        certificate = (fetch_certificate(url, timeout_s=timeout_s)
                       if https and exc.code.startswith("tls.") else None)
        pc_offset: int | None = None
        offset_detail = exc.detail.get("pc_offset_ms")
        if isinstance(offset_detail, int):
            pc_offset = offset_detail
        elif exc.code.startswith("tls."):
            unverified = _unverified_server_ms(url, timeout_s=timeout_s)
            pc_offset = None if unverified is None else _wall_ms() - unverified
        detail = dict(exc.detail)
        if exc.code == "net.offline":
            detail["reason"] = network_reason(exc)
        return ServerFacts(url=url, reachable=False, error_code=exc.code,
                           error_message=exc.message, error_detail=detail,
                           pc_offset_ms=pc_offset, clock_verified=False,
                           server_ms=None if pc_offset is None else _wall_ms() - pc_offset,
                           certificate=certificate)
    except (requests.RequestException, ValueError, KeyError) as exc:
        return ServerFacts(url=url, reachable=False, error_code="net.bad_answer",
                           error_message=str(exc))
    latency_ms = int((time.monotonic() - started) * 1000)
    certificate = fetch_certificate(url, timeout_s=timeout_s) if https else None
    reading = clock.reading()
    who: dict[str, Any] | None = None
    who_error: str | None = None
    if center_id:
        try:
            who = whoami(api, center_id=center_id, verify=verify)
        except (requests.RequestException, ValueError) as exc:
            who_error = f"{type(exc).__name__}: {exc}"
    return ServerFacts(url=url, reachable=True, latency_ms=latency_ms, server_ms=server_ms,
                       pc_offset_ms=None if reading is None else reading.pc_offset_ms,
                       certificate=certificate, whoami=who, whoami_error=who_error)


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _not_checked(name: str) -> CheckResult:
    return CheckResult(name, Status.WARN, _("未检查：无法连接考试服务器"), {})


def evaluate_server(facts: ServerFacts) -> CheckResult:
    detail: dict[str, object] = {"url": facts.url, "latency_ms": facts.latency_ms,
                                 "error_code": facts.error_code,
                                 "error_detail": facts.error_detail}
    if facts.reachable:
        return CheckResult("server", Status.PASS, _(
            "考试服务器 {url} 连接正常（{ms} 毫秒）").format(url=facts.url, ms=facts.latency_ms),
            detail)
    if facts.tls_failed:
        return CheckResult("server", Status.FAIL, _(
            "考试服务器 {url} 有响应，但加密连接没有通过验证（见“加密连接”一项）").format(
                url=facts.url), detail)
    if "status" in facts.error_detail:
        # Something answers HTTP at that address, but not the exam server's API.
        return CheckResult("server", Status.FAIL, _(
            "{url} 有响应（HTTP {status}），但不是考试服务器：请核对 user.ini 的 [server] url"
        ).format(url=facts.url, status=facts.error_detail["status"]), detail)
    return CheckResult("server", Status.FAIL, _(
        "无法连接考试服务器 {url}：请检查网线、代理和防火墙（{reason}）").format(
            url=facts.url, reason=facts.error_detail.get("reason", facts.error_message or "?")),
        detail)


def _cert_detail(cert: CertificateFacts | None) -> dict[str, object]:
    if cert is None:
        return {}
    return {"subject": cert.subject, "issuer": cert.issuer,
            "not_before": beijing_datetime(cert.not_before_ms),
            "not_after": beijing_datetime(cert.not_after_ms)}


def evaluate_tls(facts: ServerFacts, *, now_ms: int) -> CheckResult:
    """Explain a TLS failure: the PC clock, the server's certificate, or a missing CA."""
    detail: dict[str, object] = {"url": facts.url, "error_code": facts.error_code,
                                 "ssl_error": facts.error_detail.get("ssl_error"),
                                 **_cert_detail(facts.certificate)}
    if not facts.is_https:
        if _is_loopback(facts.url):
            return CheckResult("tls", Status.PASS, _("本机测试服务器，未使用加密连接"), detail)
        return CheckResult("tls", Status.WARN, _(
            "服务器地址是 http://，连接没有加密：正式考试请使用 https:// 地址"), detail)
    if facts.reachable:
        if facts.certificate is None:
            return CheckResult("tls", Status.PASS, _("加密连接正常"), detail)
        return CheckResult("tls", Status.PASS, _("加密连接正常，证书有效期至 {date}").format(
            date=beijing_datetime(facts.certificate.not_after_ms)), detail)
    if not facts.tls_failed:
        return _not_checked("tls")
    cert = facts.certificate
    server_ms = facts.server_ms
    if facts.error_code == "tls.clock_wrong" and cert is not None:
        pc_wrong = not cert.not_before_ms <= now_ms <= cert.not_after_ms
        server_ok = server_ms is not None and cert.not_before_ms <= server_ms <= cert.not_after_ms
        if pc_wrong and server_ok:
            return CheckResult("tls", Status.FAIL, _(
                "证书“尚未生效/已过期”是因为本机时间不对：本机时间 {pc}，证书有效期 {start} 至 "
                "{end}。请把电脑时间调整为北京时间").format(
                    pc=beijing_datetime(now_ms), start=beijing_datetime(cert.not_before_ms),
                    end=beijing_datetime(cert.not_after_ms)), detail)
        if server_ms is not None and not server_ok:
            return CheckResult("tls", Status.FAIL, _(
                "服务器证书本身不在有效期内（{start} 至 {end}）：请联系考试服务器管理员更换证书"
            ).format(start=beijing_datetime(cert.not_before_ms),
                     end=beijing_datetime(cert.not_after_ms)), detail)
    if (facts.error_code in ("tls.certificate_not_yet_valid", "tls.certificate_expired")
            and cert is not None):
        # The client already measured this PC's clock as right: the certificate is the
        # server's problem, whatever the server's own clock says.
        return CheckResult("tls", Status.FAIL, _(
            "服务器证书本身不在有效期内（{start} 至 {end}）：请联系考试服务器管理员更换证书"
        ).format(start=beijing_datetime(cert.not_before_ms),
                 end=beijing_datetime(cert.not_after_ms)), detail)
    if facts.error_code == "tls.untrusted" and cert is not None:
        return CheckResult("tls", Status.FAIL, _(
            "本机不信任服务器出示的证书（签发者：{issuer}）。如果签发者是考点的上网行为管理或"
            "代理设备，请把考试服务器地址加入其 HTTPS 解密例外；如果是考点自建服务器，请在 "
            "user.ini 的 [server] ca_file 中配置考点 CA 证书").format(issuer=cert.issuer),
            detail)
    return CheckResult("tls", Status.FAIL, facts.error_message or _("加密连接失败"), detail)


def evaluate_clock(facts: ServerFacts) -> CheckResult:
    offset = facts.pc_offset_ms
    if offset is None:
        return _not_checked("clock")
    detail: dict[str, object] = {"pc_offset_ms": offset, "verified": facts.clock_verified,
                                 "server_time": beijing_datetime(facts.server_ms)
                                 if facts.server_ms is not None else None}
    if abs(offset) <= PC_CLOCK_TOLERANCE_MS:
        return CheckResult("clock", Status.PASS, _("电脑时间与服务器相差 {seconds} 秒").format(
            seconds=round(abs(offset) / 1000)), detail)
    # Whole seconds: a few milliseconds of round trip must not turn "3 天" into "2 天 23 小时".
    difference = describe_offset(round(offset / 1000) * 1000)
    if abs(offset) > CLOCK_FAIL_MS:
        return CheckResult("clock", Status.FAIL, _(
            "电脑时间比服务器时间{difference}：会导致证书“尚未生效/已过期”等错误。请把电脑时间调整为"
            "北京时间；若重启后又变回去，请更换主板电池或关闭还原软件对时间的还原").format(
                difference=difference), detail)
    return CheckResult("clock", Status.WARN, _(
        "电脑时间比服务器时间{difference}：考试计时以服务器时间为准，但请把电脑时间调整为"
        "北京时间").format(difference=difference), detail)


def evaluate_center_ip(facts: ServerFacts, *, center_id: str) -> CheckResult:
    if not center_id:
        return CheckResult("center_ip", Status.FAIL, _(
            "未设置考点编号：请在 user.ini 的 [server] center_id 中填写主考/考点管理员提供的"
            "考点编号"), {})
    if not facts.reachable:
        return _not_checked("center_ip")
    who = facts.whoami
    if who is None:
        return CheckResult("center_ip", Status.WARN, _(
            "服务器未回答本机的公网地址（{error}）").format(error=facts.whoami_error or "?"),
            {"center_id": center_id, "error": facts.whoami_error})
    seen_ip = str(who.get("seen_ip", ""))
    detail = {"center_id": center_id, **who}
    if not who.get("center_known", False):
        return CheckResult("center_ip", Status.FAIL, _(
            "服务器上没有考点编号 {center}：请核对 user.ini 的 [server] center_id").format(
                center=center_id), detail)
    if not who.get("allowed", False):
        return CheckResult("center_ip", Status.FAIL, _(
            "服务器看到本机的公网地址是 {ip}，不在考点 {center} 登记的地址中：考生登录时会提示"
            "“请在考场范围内进行考试”。请考点管理员在平台登记考点的全部出口 IP").format(
                ip=seen_ip, center=center_id), detail)
    if not who.get("restricted", True):
        return CheckResult("center_ip", Status.PASS, _(
            "考点 {center} 未限制登录地址（服务器看到的地址：{ip}）").format(
                center=center_id, ip=seen_ip), detail)
    return CheckResult("center_ip", Status.PASS, _(
        "本机公网地址 {ip} 已在考点 {center} 登记").format(ip=seen_ip, center=center_id), detail)
