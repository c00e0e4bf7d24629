"""The camera's user-facing error type (stable codes are listed in docs/camera.md)."""

from __future__ import annotations

from client.errors import UserFacingError


class CameraError(UserFacingError):
    """A camera, model or base-photo problem a person can act on.

    ``detail["instructions"]`` (when present) is a list of translated steps to try, in
    the order a candidate or proctor should try them.
    """

    @property
    def instructions(self) -> list[str]:
        steps = self.detail.get("instructions", [])
        return [str(step) for step in steps] if isinstance(steps, list) else []
