"""Readiness of a center's PCs: "which IP do you see for me?" and "is every PC ready?".

The day before an exam, center admins run ``exam-client check`` on every lab PC. Each PC
asks ``GET /centers/{center_id}/whoami`` (the public IP the server sees and whether the
center registered it, domain.md "请在考场范围内进行考试") and then sends its JSON report
with ``POST /readiness``. ``GET /centers/{center_id}/readiness`` (admin token) and
``exam-server readiness CENTER`` list the latest report of every PC of the center.

Reports are kept as ``readiness`` events: no schema change, and the history of a PC
(failed yesterday, fixed today) stays available for support.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from client.i18n import _
from client.timefmt import staff_datetime
from server.auth import AdminAuth, Context, client_ip
from server.db import Database
from server.errors import ApiError

router = APIRouter()

EVENT_KIND = "readiness"
MAX_REPORT_BYTES = 256 * 1024  # a report is ~5 KB; anything near this is not a report


def ip_allowed(seen_ip: str, allowed: Iterable[str]) -> bool:
    """Whether *seen_ip* is one of the center's registered addresses or networks.

    Entries are single addresses ("203.0.113.7") or networks ("203.0.113.0/28"). An empty
    list allows every address (server/schema.py: centers.allowed_ips).
    """
    entries = [e.strip() for e in allowed if e.strip()]
    if not entries:
        return True
    try:
        address = ipaddress.ip_address(seen_ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # dual-stack servers see IPv4 clients as ::ffff:a.b.c.d
    for entry in entries:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a malformed entry never matches; `exam-server` validates on input
    return False


@router.get("/centers/{center_id}/whoami")
def whoami(center_id: str, request: Request, ctx: Context) -> dict[str, Any]:
    seen_ip = client_ip(request, trust_proxy=ctx.settings.trust_proxy)
    center = ctx.db.get_center(center_id)
    if center is None:
        return {
            "center_id": center_id,
            "center_known": False,
            "seen_ip": seen_ip,
            "allowed": False,
            "restricted": True,
        }
    return {
        "center_id": center_id,
        "center_known": True,
        "seen_ip": seen_ip,
        "allowed": ip_allowed(seen_ip, center.allowed_ips),
        "restricted": bool(center.allowed_ips),
    }


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=50)
    status: Literal["pass", "warn", "fail"]
    message: str = Field(default="", max_length=2000)
    detail: dict[str, Any] = Field(default_factory=dict)


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="allow")  # newer clients may report more facts

    format: str = Field(max_length=50)
    center_id: str = Field(min_length=1, max_length=64)
    machine_id: str = Field(min_length=1, max_length=200)
    hostname: str = Field(default="", max_length=200)
    client_version: str = Field(default="", max_length=50)
    created_at: str = Field(default="", max_length=50)
    overall: Literal["pass", "warn", "fail"]
    checks: list[CheckIn] = Field(max_length=100)


@router.post("/readiness")
def receive_report(body: ReportIn, request: Request, ctx: Context) -> dict[str, Any]:
    if int(request.headers.get("content-length") or 0) > MAX_REPORT_BYTES:
        raise ApiError(413, "too_large", limit=MAX_REPORT_BYTES)
    center = ctx.db.get_center(body.center_id)
    if center is None:
        raise ApiError(404, "unknown_center", center_id=body.center_id)
    now = ctx.clock.now_ms()
    seen_ip = client_ip(request, trust_proxy=ctx.settings.trust_proxy)
    ctx.db.add_event(
        attempt_id=None,
        kind=EVENT_KIND,
        payload={
            "center_id": body.center_id,
            "machine_id": body.machine_id,
            "hostname": body.hostname,
            "seen_ip": seen_ip,
            "ip_allowed": ip_allowed(seen_ip, center.allowed_ips),
            "overall": body.overall,
            "report": body.model_dump(mode="json"),
        },
        at_ms=now,
    )
    return {"received_at_ms": now, "seen_ip": seen_ip}


@dataclass(frozen=True)
class PcReadiness:
    """The latest report of one PC of a center."""

    machine_id: str
    hostname: str
    overall: str
    seen_ip: str
    ip_allowed: bool
    reported_at_ms: int
    client_version: str
    problems: list[str]  # "name: message" of every check that did not pass

    def to_json(self) -> dict[str, Any]:
        return {
            "machine_id": self.machine_id,
            "hostname": self.hostname,
            "overall": self.overall,
            "seen_ip": self.seen_ip,
            "ip_allowed": self.ip_allowed,
            "reported_at_ms": self.reported_at_ms,
            "client_version": self.client_version,
            "problems": self.problems,
        }


def latest_reports(db: Database, center_id: str) -> list[PcReadiness]:
    """Every PC of *center_id* that reported, its latest report only, sorted by hostname."""
    latest: dict[str, PcReadiness] = {}
    for event in db.events(kind=EVENT_KIND):  # ordered by id: later reports overwrite
        payload = event.payload
        if payload.get("center_id") != center_id:
            continue
        report = payload.get("report") or {}
        problems = [
            f"{c.get('name')}: {c.get('message')}"
            for c in report.get("checks", [])
            if c.get("status") != "pass"
        ]
        latest[str(payload.get("machine_id"))] = PcReadiness(
            machine_id=str(payload.get("machine_id")),
            hostname=str(payload.get("hostname", "")),
            overall=str(payload.get("overall")),
            seen_ip=str(payload.get("seen_ip", "")),
            ip_allowed=bool(payload.get("ip_allowed")),
            reported_at_ms=event.at_ms,
            client_version=str(report.get("client_version", "")),
            problems=problems,
        )
    return sorted(latest.values(), key=lambda pc: (pc.hostname.casefold(), pc.machine_id))


@router.get("/centers/{center_id}/readiness")
def list_readiness(center_id: str, admin: AdminAuth, ctx: Context) -> dict[str, Any]:
    if admin.center_id is not None and admin.center_id != center_id:
        raise ApiError(403, "forbidden")
    if ctx.db.get_center(center_id) is None:
        raise ApiError(404, "unknown_center", center_id=center_id)
    pcs = latest_reports(ctx.db, center_id)
    return {"center_id": center_id, "pcs": [pc.to_json() for pc in pcs], "counts": _counts(pcs)}


def _counts(pcs: Sequence[PcReadiness]) -> dict[str, int]:
    counts = {"pass": 0, "warn": 0, "fail": 0}
    for pc in pcs:
        counts[pc.overall] = counts.get(pc.overall, 0) + 1
    return counts


# -- exam-server readiness CENTER -------------------------------------------------------


def format_table(pcs: Sequence[PcReadiness], *, center_id: str) -> str:
    """One line per PC, then a count: what an admin reads the evening before the exam."""
    if not pcs:
        return _("考点 {center}：还没有电脑上报考前检查结果").format(center=center_id) + "\n"
    lines = [_("{pc:<20} {status:<6} {ip:<18} {when:<19}  {problems}").format(
        pc=_("电脑"), status=_("结果"), ip=_("服务器看到的 IP"), when=_("上报时间（北京时间）"),
        problems=_("问题"))]
    for pc in pcs:
        when = staff_datetime(pc.reported_at_ms, labelled=False)
        ip = pc.seen_ip + ("" if pc.ip_allowed else " (!)")
        problems = "; ".join(pc.problems) if pc.problems else "-"
        lines.append(f"{pc.hostname[:20]:<20} {pc.overall:<6} {ip:<18} {when:<19}  {problems}")
    counts = _counts(pcs)
    lines.append(_("考点 {center}：{total} 台电脑已上报，{ready} 台就绪，{warned} 台有警告，"
                   "{failed} 台未就绪").format(center=center_id, total=len(pcs),
                                               ready=counts["pass"], warned=counts["warn"],
                                               failed=counts["fail"]))
    if any(not pc.ip_allowed for pc in pcs):
        lines.append(_("(!) = 该 IP 不在考点登记的地址中"))
    return "\n".join(lines) + "\n"


def register_cli(subparsers: Any) -> None:
    """Add ``exam-server readiness CENTER [--json]`` (server/cli.py EXTENSION_MODULES)."""
    from server.cli import add_data_argument, open_context

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "readiness", help=_("列出考点哪些电脑考前检查已就绪（exam-client check 上报）"))
    add_data_argument(parser)
    parser.add_argument("center", help=_("考点编号"))
    parser.add_argument("--json", action="store_true", help=_("输出 JSON"))

    def run(args: argparse.Namespace) -> int:
        ctx = open_context(args)
        try:
            pcs = latest_reports(ctx.db, args.center)
        finally:
            ctx.db.close()
        if args.json:
            print(json.dumps({"center_id": args.center, "pcs": [pc.to_json() for pc in pcs],
                              "counts": _counts(pcs)}, ensure_ascii=False, indent=2))
        else:
            print(format_table(pcs, center_id=args.center), end="")
        # 0 only when PCs reported and none of them failed: scripts can gate on it.
        return 0 if pcs and all(pc.overall != "fail" for pc in pcs) else 1

    parser.set_defaults(func=run)
