"""Logging in to the server's admin web area from a test, as a browser would."""

from __future__ import annotations

import requests

from server.testing import LiveServer


def admin_session(srv: LiveServer, *, username: str | None = None,
                  password: str | None = None) -> requests.Session:
    assert srv.demo is not None
    session = requests.Session()
    response = session.post(f"{srv.url}/admin/login", data={
        "username": username or srv.demo.admin_username,
        "password": password or srv.demo.admin_password}, timeout=10, allow_redirects=False)
    assert response.status_code == 303, response.text
    return session


def csrf_of(page_html: str) -> str:
    marker = 'name="csrf" value="'
    start = page_html.index(marker) + len(marker)
    return page_html[start:page_html.index('"', start)]
