"""The one exception type whose message a person (candidate, proctor, admin) reads."""

from __future__ import annotations


class UserFacingError(Exception):
    """An error with a stable code (logs, docs/support.md, tests) and a translated message.

    ``message`` is already in the user's language (built with ``client.i18n._``);
    ``detail`` holds the facts behind it (file, key, value, IP ...) for logs and support.
    """

    def __init__(self, code: str, message: str, **detail: object) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.detail: dict[str, object] = dict(detail)
