"""The candidate's base photo (底照) for the 1:1 face match: from the server, kept encrypted.

``BasePhotoProvider.fetch()`` asks the server (GET /api/v1/attempt/base-photo) and keeps
the photo as an encrypted blob in the answer store, so a PC restarted without a network
still has it. When the server says there is none, the local copy is dropped too (an admin
may have removed a wrong photo) and the candidate reads CameraError
``camera.no_base_photo``; the center admin's sentence is in ``detail["admin_message"]``
and in the log. The identity check then runs without a photo and opens the proctor path.

HTTP is injected as ``get_bytes(path) -> bytes``; an exception whose ``code`` is
``no_base_photo`` means "the server has none", any other exception "no answer".
Blocking: call it from a worker thread, never the UI thread nor the store's writer thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from client.camera.errors import CameraError
from client.i18n import _
from client.review.outbox import BlobStore, StoreRunner

log = logging.getLogger(__name__)

PATH = "/attempt/base-photo"
BLOB_NAME = "identity/base-photo"
CONTENT_TYPE = "image/jpeg"
JPEG_MAGIC = b"\xff\xd8\xff"
STORE_TIMEOUT_S = 30.0

GetBytes = Callable[[str], bytes]


def no_base_photo_error() -> CameraError:
    return CameraError(
        "camera.no_base_photo",
        _("系统中没有你的底照，无法进行人脸比对。请举手联系监考老师核验身份证件"),
        admin_message=_("该考生没有底照：请考点管理员在平台上传底照，或由监考老师人工核验后提交入场审批"),
    )


def base_photo_unavailable_error(reason: str) -> CameraError:
    return CameraError(
        "camera.base_photo_unavailable",
        _("暂时无法从考试服务器获取你的底照（网络中断）。请稍后重试，或举手联系监考老师核验身份证件"),
        reason=reason,
    )


def _says_no_photo(exc: BaseException) -> bool:
    return getattr(exc, "code", None) == "no_base_photo"


def _put(store: BlobStore, data: bytes) -> None:
    if store.get_blob(BLOB_NAME) != data:
        store.put_blob(name=BLOB_NAME, data=data, content_type=CONTENT_TYPE)


def _drop(store: BlobStore) -> None:
    if store.get_blob(BLOB_NAME) is not None:
        store.delete_blob(BLOB_NAME)


class BasePhotoProvider:
    def __init__(self, *, get_bytes: GetBytes, run_on_store: StoreRunner) -> None:
        self._get_bytes = get_bytes
        self._run = run_on_store

    def stored(self) -> bytes | None:
        """The copy kept in the store (None before the first successful fetch)."""
        return self._run(lambda store: store.get_blob(BLOB_NAME)).result(STORE_TIMEOUT_S)

    def fetch(self) -> bytes:
        """The base photo: the server's, else the stored copy; CameraError if neither."""
        try:
            data = self._get_bytes(PATH)
        except Exception as exc:
            if _says_no_photo(exc):
                error = no_base_photo_error()
                self._run(_drop).result(STORE_TIMEOUT_S)
                log.warning("base photo: %s (%s)", error.detail["admin_message"], error.code)
                raise error from exc
            stored = self.stored()
            if stored is not None:
                log.info("base photo: server not reachable (%r), using the stored copy", exc)
                return stored
            raise base_photo_unavailable_error(repr(exc)) from exc
        if not data.startswith(JPEG_MAGIC):
            stored = self.stored()
            if stored is not None:
                return stored
            raise base_photo_unavailable_error("not a JPEG")
        self._run(lambda store: _put(store, data)).result(STORE_TIMEOUT_S)
        return data
