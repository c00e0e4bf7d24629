"""The exam server's HTTP API, seen from the client (docs/contracts.md, /api/v1).

One ``requests.Session`` per client: connection reuse, TLS verification always on (certifi's
bundle plus an optional center CA file), the system proxy honoured (requests reads the
environment and, on Windows, the registry). Idempotent GETs are retried by urllib3 with
backoff; answer uploads are retried by the pusher, which knows about the outbox.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import ssl
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import certifi
import requests
from cryptography import x509
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from client import __version__
from client.store import ServerAnswer
from client.sync.clock import ServerClock
from client.sync.errors import ServerRefused, ServerUnreachable, message_for_server_error
from client.sync.tls import diagnose_tls_failure

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class ExamInfo:
    id: str
    title: str
    start_ms: int
    end_ms: int
    package_etag: str
    package_size: int


@dataclass(frozen=True)
class LoginResult:
    token: str  # "" after an offline login (no server was reached)
    candidate_id: str
    candidate_name: str
    student_no: str
    exam: ExamInfo
    seen_ip: str
    raw: Mapping[str, Any]
    attempt_status: str = "in_progress"  # in_progress | submitted | auto_submitted
    login_kind: str = "first"  # server/second_login.py; "offline" for an offline login
    submitted_at_ms: int | None = None
    may_write: bool = True  # False: submitted and held by another PC; this one only reads
    # The candidate's center as the server knows it ("" after an offline login or from an
    # older server): printed in the emergency-materials watermark.
    center_name: str = ""
    center_address: str = ""

    @property
    def offline(self) -> bool:
        return self.login_kind == "offline"


@dataclass(frozen=True)
class PushOutcome:
    """What the server did with a batch: stored (or already had) / refused for good."""

    acked: list[tuple[str, int]]
    rejected: list[tuple[str, int]]  # made after the end: never accepted, never resent


@dataclass(frozen=True)
class HeartbeatReply:
    """The server's answer to a heartbeat: its clock and this attempt's clock.

    *end_ms* is the attempt's effective end (extra time and pauses included); while
    *paused*, it moves with the server clock (the candidate's time stands still).
    """

    server_time_ms: int
    end_ms: int
    paused: bool
    paused_since_ms: int | None
    messages: list[Mapping[str, Any]]
    # The console's answer about the face-check hold this PC named (raw: parsed and
    # checked by client/session/identity_hold.py), None when it named none.
    identity_hold: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ResultInfo:
    status: str  # computing | scored | pending_review
    score: float | None
    max_score: float
    raw: Mapping[str, Any]


def ca_bundle(ca_file: Path | None, *, cache_dir: Path) -> str:
    """certifi's bundle, plus the center's CA appended when one is configured."""
    if ca_file is None:
        return certifi.where()
    combined = cache_dir / "ca-bundle.pem"
    cache_dir.mkdir(parents=True, exist_ok=True)
    combined.write_bytes(Path(certifi.where()).read_bytes() + b"\n" + ca_file.read_bytes())
    return str(combined)


# A heartbeat's end further than this from the server's own clock is no exam's end (a
# day of extra time and pauses is already more than any allowance): a misbehaving answer.
END_HORIZON_MS = 7 * 24 * 3_600_000
_EPOCH_MS_MAX = 2 ** 53  # beyond any calendar, SQLite's INTEGER and a JSON number's precision


def _epoch_ms(value: Any) -> int:
    """A server's epoch-milliseconds field: a plain positive JSON integer, or ValueError
    (no bool, no fraction, no infinity: an absurd end must not crash or become the end)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < _EPOCH_MS_MAX:
        raise ValueError(f"not a time in ms: {value!r}")
    return value


CONNECT_TIMEOUT_S = 5.0  # a LAN or campus server answers a SYN in milliseconds


@dataclass(frozen=True)
class AttemptState:
    answers: list[ServerAnswer]
    flags: list[str] | None  # None: the server does not keep marks


class ExamApi:
    """Blocking calls; run them on worker threads, never on the UI thread."""

    def __init__(self, base_url: str, *, clock: ServerClock, verify: str | bool = True,
                 timeout_s: float = 10.0, client_id: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.timeout_s = timeout_s
        # (connect, read): a black-holed connect fails fast; a slow answer may take longer.
        self.timeouts = (min(CONNECT_TIMEOUT_S, timeout_s), timeout_s)
        self.client_id = client_id
        self.token: str | None = None
        self._verify = certifi.where() if verify is True else verify
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"ExamClient/{__version__}"
        retry = Retry(total=2, connect=2, read=1, backoff_factor=0.3,
                      status_forcelist=(502, 503, 504), allowed_methods=frozenset({"GET"}))
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))

    @property
    def verify(self) -> str | bool:
        """What TLS verification uses: the CA bundle path (never False in production)."""
        return self._verify

    # -- plumbing -----------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}{API_PREFIX}{path}"

    def _observe_time(self, response: requests.Response, sent: int, received: int) -> None:
        server_ms: int | None = None
        header = response.headers.get("X-Server-Time-Ms")
        if header and header.isdigit():
            server_ms = int(header)
        elif not self.clock.synchronised and response.headers.get("Date"):
            try:
                parsed = email.utils.parsedate_to_datetime(response.headers["Date"])
            except (TypeError, ValueError):
                return
            server_ms = int(parsed.timestamp() * 1000)
        if server_ms is not None:
            self.clock.observe(server_ms=server_ms, sent_mono_ns=sent, received_mono_ns=received)

    def _certificate_dates_unverified(self) -> tuple[int, int] | None:
        """The server certificate's validity (epoch ms), read WITHOUT verification, only to
        explain a TLS error (which one is wrong: the PC clock or the certificate)."""
        parts = urlsplit(self.base_url)
        if parts.scheme != "https" or not parts.hostname:
            return None
        try:
            pem = ssl.get_server_certificate((parts.hostname, parts.port or 443),
                                             timeout=self.timeouts[0])
            certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
        except (OSError, ValueError):
            return None
        return (int(certificate.not_valid_before_utc.timestamp() * 1000),
                int(certificate.not_valid_after_utc.timestamp() * 1000))

    def _measure_pc_offset_unverified(self) -> int | None:
        """Ask the server's time over an UNVERIFIED connection, only to explain a TLS error.

        Nothing from this answer is trusted except as a hint for the clock message.
        """
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                response = requests.get(self._url("/time"), timeout=self.timeouts,
                                        verify=False)  # diagnosis only: never trusted
        except requests.RequestException:
            return None
        server_ms = _server_ms_of(response)
        if server_ms is None:
            return None
        return time.time_ns() // 1_000_000 - server_ms

    def _request(self, method: str, path: str, *, auth: bool = True,
                 json: Any = None, headers: Mapping[str, str] | None = None,
                 stream: bool = False, ok: Iterable[int] = (200,)) -> requests.Response:
        all_headers = dict(headers or {})
        if auth and self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        sent = time.monotonic_ns()
        try:
            response = self.session.request(method, self._url(path), json=json,
                                            headers=all_headers, timeout=self.timeouts,
                                            verify=self._verify, stream=stream)
        except requests.exceptions.SSLError as exc:
            raise diagnose_tls_failure(
                str(exc), measure_pc_offset_ms=self._measure_pc_offset_unverified,
                certificate_dates=self._certificate_dates_unverified,
                host=urlsplit(self.base_url).hostname or "") from exc
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError) as exc:
            raise ServerUnreachable(type(exc).__name__) from exc
        self._observe_time(response, sent, time.monotonic_ns())
        if response.status_code not in ok:
            raise self._refusal(response)
        return response

    @staticmethod
    def _refusal(response: requests.Response) -> ServerRefused | ServerUnreachable:
        # "Retry-After: seconds" (429 busy, 503): whoever retries waits at least that long.
        retry_after = _retry_after_s(response)
        try:
            body = response.json()
            code = str(body.get("error", "server_error"))
            detail = dict(body.get("detail") or {})
        except (ValueError, requests.exceptions.RequestException):
            # A proxy's HTML error page or a body cut by the network: not the exam server
            # speaking, so treat it like no answer (the caller retries).
            if response.status_code >= 500 or response.status_code in (407, 408, 429):
                unreachable = ServerUnreachable(f"HTTP {response.status_code}")
                if retry_after is not None:
                    unreachable.detail["retry_after_s"] = retry_after
                return unreachable
            code, detail = "server_error", {}
        if retry_after is not None:
            detail.setdefault("retry_after_s", retry_after)
        if response.status_code == 401 and code == "server_error":
            code = "unauthorized"
        return ServerRefused(code, message_for_server_error(code, detail),
                             status=response.status_code, **detail)

    # -- endpoints ----------------------------------------------------------------------

    def server_time_ms(self) -> int:
        response = self._request("GET", "/time", auth=False)
        return int(self._json(response)["epoch_ms"])

    def server_keys(self) -> dict[str, bytes]:
        body = self._json(self._request("GET", "/server-keys", auth=False))
        return {name: base64.b64decode(value) for name, value in body.items()}

    def login(self, *, username: str, password: str, center_id: str,
              resume_token: str = "", authorization_code: str = "",
              extra: Mapping[str, Any] | None = None) -> LoginResult:
        """POST /login. *resume_token*: the token this PC got before a crash/restart;
        *authorization_code*: a proctor's second-login code. Raises ServerRefused."""
        payload = {"username": username, "password": password, "center_id": center_id,
                   "client_id": self.client_id, "client_version": __version__,
                   **(extra or {})}
        if resume_token:
            payload["resume_token"] = resume_token
        if authorization_code:
            payload["authorization_code"] = authorization_code
        body = self._json(self._request("POST", "/login", auth=False, json=payload))
        self.token = body["token"]
        exam = body["exam"]
        candidate = body["candidate"]
        attempt = body.get("attempt") or {}
        submitted = attempt.get("submitted_at_ms")
        center = body.get("center") if isinstance(body.get("center"), dict) else {}
        return LoginResult(
            token=body["token"], candidate_id=str(candidate["id"]),
            candidate_name=candidate["name"], student_no=candidate.get("student_no", ""),
            # The end is the candidate's own when the server gives one (extra time,
            # pauses: docs/lifecycle.md); the exam's end from an older server.
            exam=ExamInfo(id=exam["id"], title=exam["title"], start_ms=int(exam["start_ms"]),
                          end_ms=int(attempt.get("end_ms") or exam["end_ms"]),
                          package_etag=exam.get("package_etag", ""),
                          package_size=int(exam.get("package_size", 0))),
            seen_ip=body.get("seen_ip", ""), raw=body,
            attempt_status=str(attempt.get("status", "in_progress")),
            login_kind=str(attempt.get("login_kind", "first")),
            submitted_at_ms=None if submitted is None else int(submitted),
            may_write=bool(attempt.get("may_write", True)),
            center_name=str(center.get("name") or ""),
            center_address=str(center.get("address") or ""))

    def admin_login(self, *, username: str, password: str) -> str:
        """POST /admin/login; the admin token then authorizes room preloads."""
        body = self._json(self._request("POST", "/admin/login", auth=False,
                                        json={"username": username, "password": password}))
        self.token = str(body["token"])
        return self.token

    @staticmethod
    def _json(response: requests.Response) -> Any:
        """The body of a 2xx answer; a body cut short by the network is "unreachable"."""
        try:
            return response.json()
        except (ValueError, requests.exceptions.RequestException) as exc:
            raise ServerUnreachable(f"unreadable answer: {type(exc).__name__}") from exc

    def download_package(self, exam_id: str, dest: Path, *,
                         progress: Callable[[int, int], None] | None = None) -> Path:
        """Download to *dest*, resuming an interrupted ``dest.part`` with Range + If-Range."""
        part = dest.with_name(dest.name + ".part")
        etag_file = dest.with_name(dest.name + ".etag")
        headers: dict[str, str] = {}
        if dest.exists() and etag_file.exists():
            headers["If-None-Match"] = etag_file.read_text().strip()
        have = part.stat().st_size if part.exists() else 0
        if have and etag_file.exists():
            headers["Range"] = f"bytes={have}-"
            headers["If-Range"] = etag_file.read_text().strip()
        response = self._request("GET", f"/exams/{exam_id}/package", headers=headers,
                                 stream=True, ok=(200, 206, 304))
        with response:
            if response.status_code == 304:
                return dest
            etag = response.headers.get("ETag", "")
            total = int(response.headers.get("Content-Length", "0"))
            resumed = response.status_code == 206
            done = have if resumed else 0
            total += done
            etag_file.write_text(etag)
            with part.open("ab" if resumed else "wb") as out:
                done = self._copy(response, out, done, total, progress)
        part.replace(dest)
        return dest

    @staticmethod
    def _copy(response: requests.Response, out: BinaryIO, done: int, total: int,
              progress: Callable[[int, int], None] | None) -> int:
        try:
            for chunk in response.iter_content(chunk_size=256 * 1024):
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise ServerUnreachable("download interrupted") from exc
        return done

    def paper_key(self, exam_id: str) -> bytes:
        body = self._json(self._request("GET", f"/exams/{exam_id}/paper-key"))
        return base64.b64decode(body["paper_key"])

    def push_answers(self, answers: Sequence[Mapping[str, Any]]) -> PushOutcome:
        """POST /attempt/answers. Idempotent: a replayed batch is acked again, unchanged.

        409 ``sealed`` (after the end) still stores and acks the part made before the end;
        the rest is refused for good and reported as ``rejected``.
        """
        try:
            body = self._json(self._request("POST", "/attempt/answers",
                                            json={"answers": list(answers)}))
        except ServerRefused as exc:
            if exc.code != "sealed" or "acked" not in exc.detail:
                raise
            return PushOutcome(acked=_pairs(exc.detail.get("acked")),
                               rejected=_pairs(exc.detail.get("rejected")))
        return PushOutcome(acked=_pairs(body["acked"]), rejected=[])

    def heartbeat(self, *, focus_losses: int, pending: int, messages_seen: int,
                  messages_read: int = 0, identity_hold: int = 0) -> HeartbeatReply:
        """POST /attempt/heartbeat: says this PC is alive (and which console messages it
        holds and the candidate read, and the face-check hold it waits on), returns the
        attempt's clock, new messages and the console's word on that hold."""
        body = self._json(self._request("POST", "/attempt/heartbeat", json={
            "focus_losses": focus_losses, "pending": pending,
            "messages_seen": messages_seen, "messages_read": messages_read,
            "identity_hold": identity_hold}))
        try:
            since = body.get("paused_since_ms")
            messages = body.get("messages") or []
            server_ms, end_ms = _epoch_ms(body["server_time_ms"]), _epoch_ms(body["end_ms"])
            if abs(end_ms - server_ms) > END_HORIZON_MS:
                raise ValueError(f"end {end_ms} too far from the server's clock {server_ms}")
            return HeartbeatReply(
                server_time_ms=server_ms, end_ms=end_ms,
                paused=bool(body["paused"]),
                paused_since_ms=None if since is None else _epoch_ms(since),
                messages=[m for m in messages if isinstance(m, dict)],
                identity_hold=hold if isinstance(hold := body.get("identity_hold"), dict)
                else None)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ServerUnreachable(f"unreadable heartbeat answer: {exc}") from exc

    def request_identity_hold(self, body: Mapping[str, Any]) -> int:
        """POST /attempt/identity-hold: held after a failed face check, ask the console
        (client/session/identity_hold.py builds *body*); returns the hold's id."""
        answer = self._json(self._request("POST", "/attempt/identity-hold", json=dict(body)))
        hold_id = answer.get("hold_id") if isinstance(answer, dict) else None
        if isinstance(hold_id, bool) or not isinstance(hold_id, int) or hold_id <= 0:
            raise ServerUnreachable(f"unreadable identity hold answer: {answer!r}")
        return hold_id

    def attempt_answers(self) -> list[ServerAnswer]:
        """GET /attempt/answers: the server's current revision of every answered question."""
        return self.attempt_state().answers

    def attempt_state(self) -> AttemptState:
        """GET /attempt/answers: the answers and the candidate's marks, as the server has
        them (what a PC taking over the attempt starts from)."""
        body = self._json(self._request("GET", "/attempt/answers"))
        answers = [ServerAnswer(question_id=str(a["question_id"]), revision=int(a["revision"]),
                                value=a.get("value"),
                                server_time_ms=None if a.get("server_time_ms") is None
                                else int(a["server_time_ms"]))
                   for a in body["answers"]]
        flags = body.get("flags")  # absent on a server older than the marks' sync
        return AttemptState(answers=answers, flags=(
            [str(q) for q in flags] if isinstance(flags, list) else None))

    def put_flags(self, flags: Sequence[str]) -> None:
        """PUT /attempt/flags: the questions the candidate marked, all of them."""
        self._json(self._request("PUT", "/attempt/flags", json={"flags": list(flags)}))

    def register_session_key(self, body: Mapping[str, str]) -> Mapping[str, Any]:
        """POST /attempt/session-key (client/export/session_key.py); idempotent.
        Returns the server's answer (``key_id``, ``registered_at_ms``)."""
        answer = self._json(self._request("POST", "/attempt/session-key", json=dict(body)))
        return answer if isinstance(answer, dict) else {}

    def submit(self, *, answered_count: int) -> int:
        body = self._json(self._request("POST", "/attempt/submit",
                                        json={"answered_count": answered_count}))
        return int(body["submitted_at_ms"])

    def result(self) -> ResultInfo:
        body = self._json(self._request("GET", "/attempt/result"))
        score = body.get("score")
        return ResultInfo(status=body["status"], score=None if score is None else float(score),
                          max_score=float(body.get("max_score") or 0.0), raw=body)


def _retry_after_s(response: requests.Response) -> int | None:
    value = response.headers.get("Retry-After", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def _pairs(value: object) -> list[tuple[str, int]]:
    if not isinstance(value, list):
        return []
    return [(str(qid), int(rev)) for qid, rev in value]


def _server_ms_of(response: requests.Response) -> int | None:
    """Server time from the JSON of GET /time, else from the HTTP Date header (a proxy or
    another server in between may answer something else, but still dates its answer)."""
    try:
        return int(response.json()["epoch_ms"])
    except (ValueError, KeyError, TypeError, requests.exceptions.RequestException):
        pass
    date = response.headers.get("Date")
    if not date:
        return None
    try:
        return int(email.utils.parsedate_to_datetime(date).timestamp() * 1000)
    except (TypeError, ValueError):
        return None
