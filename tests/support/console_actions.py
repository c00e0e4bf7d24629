"""A console action as a proctor's browser sends it (login form, CSRF token from the room
page, JSON post), for tests outside tests/console that drive the console over HTTP."""

from __future__ import annotations

import re
from typing import Any

import requests

from server.console.demo_room import DEMO_CONSOLE_PASSWORD, DEMO_PROCTOR_USERNAME
from server.testing import LiveServer

CSRF = re.compile(r'&quot;csrf&quot;: &quot;([0-9a-f]{64})&quot;')


def console_action(srv: LiveServer, *, username: str = DEMO_PROCTOR_USERNAME,
                   password: str = DEMO_CONSOLE_PASSWORD, **body: Any) -> dict[str, Any]:
    """Log in to the console and post one action (``exam_id`` defaults to the demo's);
    returns the answer's JSON, asserting it was accepted."""
    http = requests.Session()
    page = http.post(f"{srv.url}/console/login", timeout=30,
                     data={"username": username, "password": password})
    match = CSRF.search(page.text)
    assert match, page.text[:300]
    assert srv.demo is not None
    body.setdefault("exam_id", srv.demo.exam_id)
    response = http.post(f"{srv.url}/console/api/action", timeout=10,
                         headers={"X-CSRF-Token": match.group(1)}, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def room_tiles(srv: LiveServer, *, username: str = DEMO_PROCTOR_USERNAME,
               password: str = DEMO_CONSOLE_PASSWORD) -> list[dict[str, Any]]:
    http = requests.Session()
    http.post(f"{srv.url}/console/login", timeout=30,
              data={"username": username, "password": password})
    assert srv.demo is not None
    response = http.get(f"{srv.url}/console/api/room", params={"exam": srv.demo.exam_id},
                        timeout=10)
    response.raise_for_status()
    return list(response.json()["tiles"])
