"""``exam-client``: the exam (default), the demo, checks and diagnostics.

Qt is imported only by the commands that open a window, and only after the settings are
read, so ``exam-client check`` and ``exam-client diagnostics`` run on a PC whose graphics
stack is broken.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from client import __version__, i18n
from client.config import Settings, config_search_path, load_settings
from client.i18n import _

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exam-client", description=_("考试客户端"))
    parser.add_argument("--version", action="version", version=f"exam-client {__version__}")
    parser.add_argument("--config", type=Path, help=_("user.ini 的路径（优先于其他位置）"))
    parser.add_argument("--errors-to-stderr", action="store_true",
                        help=_("错误输出到标准错误而不弹出对话框（测试、技术支持）"))
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help=_("开始考试（默认）"))
    demo = commands.add_parser("demo", help=_("启动本机演示服务器和演示考试"))
    demo.add_argument("--start-in", type=float, default=45.0,
                      help=_("演示考试在多少秒后开始"))
    demo.add_argument("--duration", type=float, default=30.0, help=_("演示考试时长（分钟）"))
    return parser


def read_settings(config: Path | None) -> Settings:
    settings = load_settings(config_search_path(config))
    i18n.set_language(settings.get("ui/language"))
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = read_settings(args.config)
    logging.basicConfig(level=settings.get("logging/level"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    command = args.command or "run"
    if command == "demo":
        return run_demo(settings, start_in_s=args.start_in, duration_min=args.duration)
    return run_exam(settings)


def run_exam(settings: Settings) -> int:
    from client.session.factory import create_session
    from client.ui.app import GuiOptions, run_gui

    session = create_session(settings)
    options = GuiOptions(server_url=settings.get("server/url"),
                         language=settings.get("ui/language"),
                         font_scale=settings.get("ui/font_scale"),
                         warnings=[problem.message() for problem in settings.problems])
    return run_gui(session, options)


def run_demo(settings: Settings, *, start_in_s: float, duration_min: float) -> int:
    """Start the reference server on 127.0.0.1 with the demo exam, and the client on it."""
    from server.testing import live_server

    from client.session.factory import create_session
    from client.ui.app import GuiOptions, run_gui

    with tempfile.TemporaryDirectory(prefix="exam-demo-") as scratch:
        root = Path(scratch)
        with live_server(root / "server", demo=True, start_in_s=start_in_s,
                         duration_s=duration_min * 60) as server:
            assert server.demo is not None
            demo = server.demo
            settings = settings.with_overrides({
                "server/url": server.url,
                "server/center_id": demo.center_id,
                "data/directory": root / "client",
            })
            others = "；".join(f"{c.student_no} / {c.password}" for c in demo.candidates[1:])
            hint = _("演示考生：用户名 {username}，密码 {password}\n其他演示考生：{others}\n"
                     "演示考试将在启动约 {seconds} 秒后开始").format(
                username=demo.username, password=demo.password, others=others,
                seconds=int(start_in_s))
            session = create_session(settings)
            options = GuiOptions(server_url=server.url, language=settings.get("ui/language"),
                                 font_scale=settings.get("ui/font_scale"), demo_hint=hint,
                                 warnings=[p.message() for p in settings.problems])
            return run_gui(session, options)


if __name__ == "__main__":
    sys.exit(main())
