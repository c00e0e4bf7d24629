"""What a candidate types as username, made comparable before it leaves the PC.

A Chinese input method types full-width forms: "Ａ１２３４５６（７）" for the ID number
A123456(7). NFKC folds them to the ASCII the registration list holds (the offline login
already did, client/session/offline_header.py). A username longer than the server accepts
gets a message that says so, not the server's "invalid_request".
"""

from __future__ import annotations

import unicodedata

from client.errors import UserFacingError
from client.i18n import _

MAX_USERNAME_LENGTH = 64  # server/api_login.py LoginRequest.username


def clean_username(typed: str) -> str:
    username = unicodedata.normalize("NFKC", typed).strip()
    if len(username) > MAX_USERNAME_LENGTH:
        raise UserFacingError("login.username_too_long", _(
            "用户名过长（{n} 个字符）：请输入学号或身份证号，最多 {limit} 个字符").format(
                n=len(username), limit=MAX_USERNAME_LENGTH))
    return username
