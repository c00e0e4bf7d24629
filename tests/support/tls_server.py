"""A real HTTPS server on 127.0.0.1 for the TLS diagnosis tests.

It answers ``GET /api/v1/time`` like the exam server (``epoch_ms`` and a ``Date`` header)
from a clock the test chooses, and presents a leaf certificate signed by a test root CA
whose validity dates the test chooses, generated with ``cryptography``.
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

ROOT_NAME = "Exam Test Root CA"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def write_certificates(folder: Path, *, not_before: datetime,
                       not_after: datetime) -> tuple[Path, Path, Path]:
    """(root CA pem, leaf cert pem, leaf key pem); the leaf is valid for 127.0.0.1."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    ca = (x509.CertificateBuilder().subject_name(_name(ROOT_NAME)).issuer_name(_name(ROOT_NAME))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(days=365)).not_valid_after(now + timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    ca_pem, cert_pem, key_pem = folder / "ca.pem", folder / "leaf.pem", folder / "leaf.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return ca_pem, cert_pem, key_pem


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


def run_tls_server(folder: Path, *, valid_from_days: float = -1.0,
                   valid_until_days: float = 90.0, server_clock_days: float = 0.0,
                   time_json: bool = True) -> TlsServer:
    """Serve HTTPS; certificate valid from/until now + the given days; the server's clock
    reads now + *server_clock_days*. With ``time_json=False`` /api/v1/time answers like a
    proxy's HTML page that still carries a ``Date`` header."""
    now = datetime.now(UTC)
    ca_pem, cert_pem, key_pem = write_certificates(
        folder, not_before=now + timedelta(days=valid_from_days),
        not_after=now + timedelta(days=valid_until_days))
    offset_ms = int(server_clock_days * 86_400_000)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server names handlers do_<METHOD>
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
            pass  # keep test output clean; failures show up as assertions

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_pem, key_pem)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              name="tls-test-server", daemon=True)
    thread.start()
    return TlsServer(url=f"https://127.0.0.1:{httpd.server_address[1]}", ca_file=ca_pem,
                     httpd=httpd, thread=thread)
