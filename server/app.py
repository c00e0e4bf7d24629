"""The FastAPI application: routers under /api/v1, error format, server-time headers,
request limits, the login gate, and the sweeper that auto-submits ended attempts and
scores submitted ones (in exactly one process of a farm: server/leader.py).

Several workers (``exam-server serve --workers N``) each build their app with
:func:`app_from_environment`; they share nothing but the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
from collections.abc import AsyncIterator
from email.utils import formatdate

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import api_admin, api_attempt, api_exam, api_login, forwarded, hash_threads
from server.clock import Clock
from server.context import ServerContext
from server.errors import install_error_handlers
from server.import_jobs import JobWake, work_forever
from server.leader import Leadership
from server.login_gate import LoginGate, default_slots
from server.request_limits import RequestLimits

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
LOGINS_PER_HASH_THREAD = 2

# Routers of other server parts: (module, attribute, URL prefix). The lead adds entries,
# e.g. ("server.readiness", "router", API_PREFIX) or ("server.admin_web", "router", "").
EXTENSION_ROUTERS: list[tuple[str, str, str]] = [
    ("server.readiness", "router", "/api/v1"),
    ("server.offline_import", "api_router", "/api/v1"),
    ("server.admin_web", "router", ""),
    ("server.review", "router", "/api/v1"),
    ("server.identity_holds", "router", "/api/v1"),
    ("server.base_photos", "router", "/api/v1"),
    ("server.version_floor", "router", "/api/v1"),
    ("server.pledges", "router", "/api/v1"),
    ("server.console", "router", ""),
    ("server.materials", "router", "/api/v1"),
]


class ServerTimeHeaders:
    """Stamp every response with the server clock: ``Date`` and ``X-Server-Time-Ms``.

    Clients estimate server time from any response (client/sync/api.py), so the headers
    must come from the same clock as exam decisions, not from uvicorn's wall clock.
    """

    def __init__(self, app: ASGIApp, *, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_time(message: Message) -> None:
            if message["type"] == "http.response.start":
                now_ms = self.clock.now_ms()
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", formatdate(now_ms / 1000, usegmt=True).encode()))
                headers.append((b"x-server-time-ms", str(now_ms).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_time)


def sweep(ctx: ServerContext) -> None:
    """End forgotten pauses; auto-submit attempts whose exam ended; score every
    submitted, unscored attempt."""
    from server.pause_limit import end_overdue_pauses

    # First: a pause ended by the limit may make its attempt due in this same sweep.
    resumed = end_overdue_pauses(ctx.db, now_ms=ctx.clock.now_ms(),
                                 max_pause_ms=ctx.settings.max_pause_s * 1000)
    if resumed:
        log.info("ended %d pause(s) left on longer than max_pause_s", len(resumed))
    ended = ctx.db.auto_submit_ended(now_ms=ctx.clock.now_ms())
    if ended:
        log.info("auto-submitted %d attempt(s) at exam end", len(ended))
    # An event left open by a PC that crashed holds the result once the attempt ends.
    from server.review import reevaluate_submitted

    reevaluate_submitted(ctx.db, now_ms=ctx.clock.now_ms())
    ctx.grader.grade_pending()


SWEEPER = "sweeper"


def _sweep_if_leader(ctx: ServerContext, leadership: Leadership, app: FastAPI) -> None:
    if leadership.try_lead(now_ms=ctx.clock.now_ms()):
        sweep(ctx)
        app.state.sweeps += 1


async def _sweep_forever(ctx: ServerContext, app: FastAPI) -> None:
    # A lease outlives a few missed runs, so a busy leader is not replaced needlessly.
    leadership = Leadership(ctx.db, SWEEPER,
                            lease_ms=int(max(3 * ctx.settings.sweep_interval_s, 2.0) * 1000))
    try:
        while True:
            try:
                await run_in_threadpool(_sweep_if_leader, ctx, leadership, app)
            except Exception:  # the sweeper must survive one bad attempt or a busy database
                log.exception("sweep failed")
            await asyncio.sleep(ctx.settings.sweep_interval_s)
    finally:
        await run_in_threadpool(leadership.release)


def app_from_environment() -> FastAPI:
    """The app of one worker of ``serve --workers N`` (uvicorn factory): settings, keys
    and database from the data directory in $EXAM_SERVER_DATA, as ``serve`` set them."""
    from server.cli import context_for_data_dir
    from server.config import default_data_dir

    return create_app(context_for_data_dir(default_data_dir()), freeze_startup_objects=True)


def create_app(ctx: ServerContext, *, freeze_startup_objects: bool = False) -> FastAPI:
    """The server's ASGI app. *freeze_startup_objects*: for a serving process (``serve``
    and its workers), not for servers inside a test process."""
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if freeze_startup_objects:
            # The ~125,000 objects of the imported modules and the app live as long as the
            # process; a full collection scanned all of them, holding the GIL for tens of
            # milliseconds (250 ms on a loaded VM) in the middle of requests: the tail of
            # the upload latency. Frozen, the collector skips them (docs/server-deploy.md).
            gc.collect()
            gc.freeze()
        app.state.import_wake = JobWake()
        tasks = [asyncio.create_task(_sweep_forever(ctx, app))]
        if ctx.settings.import_jobs:
            tasks.append(asyncio.create_task(work_forever(ctx, app.state.import_wake)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(title="Exam server", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.ctx = ctx
    app.state.sweeps = 0  # sweeps this process ran (tests: exactly one sweeper per farm)
    install_error_handlers(app)
    for module in (api_exam, api_login, api_attempt, api_admin):
        app.include_router(module.router, prefix=API_PREFIX)
    for module_name, attribute, prefix in EXTENSION_ROUTERS:
        app.include_router(getattr(importlib.import_module(module_name), attribute), prefix=prefix)
    app.add_middleware(RequestLimits)
    # At most login_slots argon2 hashes at once, on low-priority threads of their own; the
    # gate admits twice as many logins, so that one's database work overlaps another's
    # hash, and queues or refuses the rest (server/login_gate.py).
    forwarded.networks(ctx.settings.proxy_addresses)  # a wrong entry stops the start
    hashing = ctx.settings.login_slots or default_slots()
    hash_threads.configure(threads=hashing)
    app.add_middleware(LoginGate, slots=LOGINS_PER_HASH_THREAD * hashing,
                       max_wait_s=ctx.settings.login_max_wait_s,
                       trust_proxy=ctx.settings.trust_proxy,
                       proxies=ctx.settings.proxy_addresses)
    app.add_middleware(ServerTimeHeaders, clock=ctx.clock)
    return app
