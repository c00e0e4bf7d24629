"""A minimal HTTP adapter with the two calls client/review needs, over ``requests``.

The session code may pass its own functions instead (ExamApi's session and token); this
one exists so that client/review works on its own and its error contract is concrete:
every failure is a :class:`TransportError`, with ``status``, the server's error ``code``
and its ``detail`` when the server answered (docs/contracts.md error format), None and {}
when it did not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import requests

API_PREFIX = "/api/v1"


class TransportError(Exception):
    def __init__(self, message: str, *, status: int | None = None,
                 code: str | None = None, detail: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail: dict[str, Any] = dict(detail or {})


class HttpTransport:
    def __init__(self, *, base_url: str, token: Callable[[], str | None],
                 session: requests.Session | None = None, verify: str | bool = True,
                 timeout_s: float = 30.0) -> None:
        self._base = base_url.rstrip("/") + API_PREFIX
        self._token = token
        self._session = session or requests.Session()
        self._verify = verify
        self._timeout = timeout_s

    def _request(self, method: str, path: str, *, json: Any = None) -> requests.Response:
        headers = {}
        token = self._token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response: requests.Response = self._session.request(
                method, self._base + path, json=json, headers=headers,
                timeout=self._timeout, verify=self._verify)
        except requests.RequestException as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            code: str | None = None
            detail: Mapping[str, Any] = {}
            try:
                body = response.json()
                if isinstance(body, dict):
                    code = str(body.get("error"))
                    found = body.get("detail")
                    detail = found if isinstance(found, dict) else {}
            except ValueError:
                pass
            raise TransportError(f"HTTP {response.status_code} {code or ''}".strip(),
                                 status=response.status_code, code=code, detail=detail)
        return response

    def post_json(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        response = self._request("POST", path, json=dict(body))
        try:
            answer = response.json()
        except ValueError as exc:
            raise TransportError("answer is not JSON", status=response.status_code) from exc
        if not isinstance(answer, dict):
            raise TransportError("answer is not a JSON object", status=response.status_code)
        return answer

    def get_bytes(self, path: str) -> bytes:
        content: bytes = self._request("GET", path).content
        return content
