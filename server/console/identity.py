"""Console accounts by real name (监考教师实名, issue 22): ID number and photo.

A console account already carries the person's name (``display_name``); this adds the ID
number and a photo, so the console header shows who is signed in (name, masked ID number,
photo) and a chief can compare it with the person at the desk. The photo is sealed with
the server's storage key like the proctor photos of server/proctors.py; the page only
ever gets the masked ID number. Kept in its own table so older databases need no
migration (server/lazy_tables.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Column, ForeignKey, LargeBinary, String, Table, select

from client.errors import UserFacingError
from client.i18n import _
from client.proctor.identity import mask_id_number
from server import schema as t
from server.console import tables as ct
from server.db import Database
from server.keys import ServerKeys
from server.lazy_tables import create_once
from server.proctors import ID_NUMBER_PATTERN

MAX_PHOTO_BYTES = 4 * 1024 * 1024

account_identities = Table(
    "console_account_identities",
    t.metadata,
    Column("username", String(64), ForeignKey("console_accounts.username"),
           primary_key=True),
    Column("id_number", String(64), nullable=False),
    Column("photo_sealed", LargeBinary, nullable=True),  # JPEG, sealed (server/keys.py)
)


@dataclass(frozen=True)
class RealName:
    """What the console shows of an account's identity."""

    masked_id_number: str
    has_photo: bool


def ensure_tables(db: Database) -> None:
    ct.ensure_tables(db)
    create_once(db, tables=[account_identities])


def _photo_context(username: str) -> str:
    return f"console-account-photo:{username}"


def check_id_number(id_number: str) -> str:
    value = id_number.strip().upper()
    if not re.match(ID_NUMBER_PATTERN, value):
        raise UserFacingError("console.bad_id_number", _(
            "身份证号格式不正确：{value}").format(value=id_number))
    return value


def check_photo(photo: bytes) -> bytes:
    if not photo.startswith(b"\xff\xd8") or len(photo) > MAX_PHOTO_BYTES:
        raise UserFacingError("console.bad_photo", _("照片必须是 JPEG 图片，不超过 4 MB"))
    return photo


def set_real_name(db: Database, keys: ServerKeys, *, username: str, id_number: str,
                  photo: bytes | None) -> None:
    """Store (or replace) the ID number and photo of an existing account."""
    ensure_tables(db)
    value = check_id_number(id_number)
    sealed = (keys.seal(check_photo(photo), context=_photo_context(username))
              if photo is not None else None)
    with db.write() as conn:
        conn.execute(account_identities.delete()
                     .where(account_identities.c.username == username))
        conn.execute(account_identities.insert().values(
            username=username, id_number=value, photo_sealed=sealed))


def real_name(db: Database, username: str) -> RealName | None:
    """None for an account registered without an ID number."""
    ensure_tables(db)
    with db.read() as conn:
        row = conn.execute(select(account_identities.c.id_number,
                                  account_identities.c.photo_sealed.is_not(None)
                                  .label("has_photo"))
                           .where(account_identities.c.username == username)).first()
    if row is None:
        return None
    return RealName(masked_id_number=mask_id_number(row.id_number),
                    has_photo=bool(row.has_photo))


def account_photo(db: Database, keys: ServerKeys, username: str) -> bytes | None:
    ensure_tables(db)
    with db.read() as conn:
        sealed = conn.execute(select(account_identities.c.photo_sealed)
                              .where(account_identities.c.username == username)).scalar()
    return None if sealed is None else keys.unseal(sealed, context=_photo_context(username))
