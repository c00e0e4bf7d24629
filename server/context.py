"""Everything a request handler needs, built once per server and kept on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from server.clock import Clock
from server.config import ServerSettings
from server.db import Database
from server.grading import Grader
from server.keys import ServerKeys
from server.papers import PaperStore


@dataclass(frozen=True)
class ServerContext:
    settings: ServerSettings
    db: Database
    keys: ServerKeys
    clock: Clock
    papers: PaperStore
    grader: Grader

    @classmethod
    def build(
        cls, *, settings: ServerSettings, db: Database, keys: ServerKeys, clock: Clock
    ) -> ServerContext:
        papers = PaperStore(db=db, keys=keys, packages_dir=settings.packages_dir)
        return cls(
            settings=settings,
            db=db,
            keys=keys,
            clock=clock,
            papers=papers,
            grader=Grader(db=db, papers=papers, clock=clock),
        )


def get_context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx
