"""Network and TLS checks against the exam server, explained for support.

Each step (DNS, TCP, TLS, HTTP time) is recorded separately so that "it does not connect"
becomes "DNS fails" or "the certificate is not yet valid because the PC clock is 2019".
The two TLS errors seen in exam centres get a plain classification:
* ``clock``: "certificate is not yet valid"/"expired" while the certificate's dates are
  fine by the server's clock -> the PC clock is wrong;
* ``missing_root``: "unable to get local issuer certificate" -> a stripped-down Windows
  image lacks root certificates.
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

DEFAULT_TIME_PATH = "/api/v1/time"


def _elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def classify_tls_error(message: str) -> str:
    lowered = message.lower()
    if "not yet valid" in lowered or "certificate has expired" in lowered:
        return "clock"
    if "unable to get local issuer" in lowered or "unable to verify the first" in lowered:
        return "missing_root"
    if "self-signed" in lowered or "self signed" in lowered:
        return "untrusted"
    if "hostname mismatch" in lowered or "doesn't match" in lowered:
        return "wrong_host"
    return "other"


def _certificate_dates(der: bytes) -> dict[str, Any]:
    from cryptography import x509  # imported here: only the TLS step needs it

    cert = x509.load_der_x509_certificate(der)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "not_before_epoch": cert.not_valid_before_utc.timestamp(),
        "not_after_epoch": cert.not_valid_after_utc.timestamp(),
    }


def _tls_check(host: str, port: int, *, timeout_s: float, cafile: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    context = ssl.create_default_context(cafile=cafile)
    start = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as raw, \
                context.wrap_socket(raw, server_hostname=host) as tls:
            cipher = tls.cipher()
            result.update(ok=True, version=tls.version(),
                          cipher=cipher[0] if cipher is not None else None, ms=_elapsed_ms(start))
            der = tls.getpeercert(binary_form=True)
            if der:
                result["certificate"] = _certificate_dates(der)
            return result
    except ssl.SSLCertVerificationError as exc:
        message = str(exc.verify_message or exc)
        result.update(ok=False, error=message, verify_code=exc.verify_code,
                      classification=classify_tls_error(message))
    except (OSError, ssl.SSLError) as exc:
        result.update(ok=False, error=f"{type(exc).__name__}: {exc}",
                      classification=classify_tls_error(str(exc)))
        return result
    # Verification failed: look at the certificate anyway (no trust decision is made from
    # it) to tell a wrong PC clock from a missing root certificate.
    try:
        unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        with socket.create_connection((host, port), timeout=timeout_s) as raw, \
                unverified.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
        if der:
            dates = _certificate_dates(der)
            result["certificate"] = dates
            now = time.time()
            result["local_clock_inside_validity"] = (
                dates["not_before_epoch"] <= now <= dates["not_after_epoch"])
    except (OSError, ssl.SSLError, ValueError) as exc:
        result["certificate_error"] = f"{type(exc).__name__}: {exc}"
    return result


def run_network_checks(
    *,
    server_url: str,
    timeout_s: float = 5.0,
    time_path: str = DEFAULT_TIME_PATH,
    cafile: str | None = None,
) -> dict[str, Any]:
    """Check *server_url* step by step; never raises (every failure is a result)."""
    parts = urlsplit(server_url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    report: dict[str, Any] = {"server_url": server_url, "host": host, "port": port,
                              "local_time_epoch": time.time()}
    start = time.perf_counter()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        report["dns"] = {"ok": True, "addresses": sorted({str(i[4][0]) for i in infos}),
                         "ms": _elapsed_ms(start)}
    except OSError as exc:
        report["dns"] = {"ok": False, "error": str(exc)}
        return report
    start = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            report["tcp"] = {"ok": True, "ms": _elapsed_ms(start)}
    except OSError as exc:
        report["tcp"] = {"ok": False, "error": str(exc)}
        return report
    if https:
        report["tls"] = _tls_check(host, port, timeout_s=timeout_s, cafile=cafile)
    report["http_time"] = _http_time(server_url.rstrip("/") + time_path, timeout_s=timeout_s,
                                     verify=cafile if cafile else True)
    return report


def _http_time(url: str, *, timeout_s: float, verify: bool | str) -> dict[str, Any]:
    import requests  # imported here: keeps `import client.diagnostics` light

    sent = time.time()
    start = time.perf_counter()
    try:
        response = requests.get(url, timeout=timeout_s, verify=verify)
    except requests.RequestException as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    received = time.time()
    result: dict[str, Any] = {"ok": response.ok, "status": response.status_code,
                              "ms": _elapsed_ms(start), "date_header": response.headers.get("Date")}
    try:
        epoch_ms = response.json().get("epoch_ms")
    except ValueError:
        epoch_ms = None
    if isinstance(epoch_ms, int | float):
        midpoint_ms = (sent + received) / 2 * 1000
        result["server_epoch_ms"] = epoch_ms
        result["local_clock_offset_s"] = round((midpoint_ms - epoch_ms) / 1000, 3)
    return result
