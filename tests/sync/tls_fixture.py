"""A real HTTPS server on 127.0.0.1 whose certificate dates and clock a test chooses.

It answers ``GET /api/v1/time`` like the exam server (``epoch_ms`` and a ``Date`` header)
or, with ``time_json=False``, like a proxy's HTML page that still carries a ``Date``.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DAY = timedelta(days=1)


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _certificates(folder: Path, *, not_before: datetime,
                  not_after: datetime) -> tuple[Path, Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("Center Test CA"))
          .issuer_name(_name("Center Test CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - 365 * DAY).not_valid_after(now + 3650 * DAY)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "leaf.pem", folder / "leaf.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@dataclass
class TlsServer:
    url: str
    ca_file: Path
    httpd: ThreadingHTTPServer
    thread: threading.Thread

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def run_tls_server(folder: Path, *, valid_from_days: float = -1, valid_until_days: float = 90,
                   server_clock_days: float = 0, time_json: bool = True) -> TlsServer:
    now = datetime.now(UTC)
    ca, cert, key = _certificates(folder, not_before=now + valid_from_days * DAY,
                                  not_after=now + valid_until_days * DAY)
    offset_ms = int(server_clock_days * 86_400_000)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's handler naming
            server_ms = time.time_ns() // 1_000_000 + offset_ms
            if self.path == "/api/v1/time" and time_json:
                status, kind = 200, "application/json"
                body = json.dumps({"epoch_ms": server_ms}).encode()
            elif self.path == "/api/v1/time":
                status, kind, body = 200, "text/html", b"<html>proxy</html>"
            else:
                status, kind = 404, "application/json"
                body = json.dumps({"error": "not_found", "detail": {}}).encode()
            self.send_response_only(status)  # no automatic Date: ours is the only one
            self.send_header("Date", formatdate(server_ms / 1000, usegmt=True))
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    return TlsServer(url=f"https://127.0.0.1:{httpd.server_address[1]}", ca_file=ca,
                     httpd=httpd, thread=thread)
