"""A center's postal address, printed with its name in the emergency-materials watermark.

The proctor should not have to type the center's name and address into the evidence on
exam day (and could mistype them): the platform stores them once
(``exam-server add-center ID NAME --address ...``), the login answer carries them to the
exam PC (``center`` in server/api_login.py), and the browser upload path reads them here.
Kept in its own table so older databases need no migration (server/lazy_tables.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, String, Table, Text, select

from server import schema as t
from server.db import Database
from server.lazy_tables import create_once

MAX_ADDRESS_CHARS = 200  # one watermark line (client/camera/watermark.py)

center_addresses = Table(
    "center_addresses",
    t.metadata,
    Column("center_id", String(64), primary_key=True),
    Column("address", Text, nullable=False),
)


@dataclass(frozen=True)
class CenterLabel:
    """What a watermark says about a center."""

    id: str
    name: str
    address: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "address": self.address}


def ensure_tables(db: Database) -> None:
    create_once(db, tables=[center_addresses])


def set_center_address(db: Database, *, center_id: str, address: str) -> None:
    """Store (or replace; empty clears) the address of an existing center."""
    ensure_tables(db)
    address = " ".join(address.split())[:MAX_ADDRESS_CHARS]
    with db.write() as conn:
        conn.execute(center_addresses.delete().where(center_addresses.c.center_id == center_id))
        if address:
            conn.execute(center_addresses.insert().values(center_id=center_id, address=address))


def center_label(db: Database, center_id: str | None) -> CenterLabel | None:
    """The center's id, name and address (address "" when none is stored); None for no
    center or an unknown one."""
    if not center_id:
        return None
    center = db.get_center(center_id)
    if center is None:
        return None
    ensure_tables(db)
    with db.read() as conn:
        address = conn.execute(select(center_addresses.c.address).where(
            center_addresses.c.center_id == center_id)).scalar()
    return CenterLabel(id=center.id, name=center.name, address=str(address or ""))
