"""Usernames as an input method types them: full-width forms log in (the Hong Kong ID
A123456(7) typed as "Ａ１２３４５６（７）"), an over-long one is told so in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.config import load_settings
from client.errors import UserFacingError
from client.session.factory import create_session
from client.session.username import MAX_USERNAME_LENGTH, clean_username
from server.demo import DEMO_CANDIDATES
from server.testing import live_server


def test_full_width_forms_fold_to_ascii() -> None:
    assert clean_username("　Ａ１２３４５６（７）　") == "A123456(7)"
    assert clean_username("２０２４０００００１") == "2024000001"


def test_an_overlong_username_is_explained() -> None:
    with pytest.raises(UserFacingError) as caught:
        clean_username("1" * (MAX_USERNAME_LENGTH + 1))
    assert caught.value.code == "login.username_too_long"
    assert "最多 64 个字符" in caught.value.message
    assert "invalid_request" not in caught.value.message


def test_full_width_id_number_logs_in_against_the_server(tmp_path: Path) -> None:
    hong_kong = next(c for c in DEMO_CANDIDATES if "(" in c.id_number)
    with live_server(tmp_path / "server", demo=True, start_in_s=60, duration_s=600) as server:
        assert server.demo is not None
        settings = load_settings([]).with_overrides({
            "server/url": server.url, "server/center_id": server.demo.center_id,
            "data/directory": tmp_path / "client"})
        session = create_session(settings)
        try:
            result = session.login(username="Ａ１２３４５６（７）", password=hong_kong.password)
            assert result.student_no == hong_kong.student_no
        finally:
            session.close()
        # The server folds too (an older client, or the console's own tools).
        import requests

        from server.app import API_PREFIX

        response = requests.post(f"{server.url}{API_PREFIX}/login", json={
            "username": "Ａ１２３４５６（７）", "password": hong_kong.password,
            "center_id": server.demo.center_id}, timeout=10)
        assert response.status_code == 200, response.text  # before the start: log in again
        assert response.json()["candidate"]["student_no"] == hong_kong.student_no
