"""``exam-client``: the exam (default), the demo, checks and diagnostics.

Qt is imported only by the commands that open a window, and only after the settings are
read, so ``exam-client check`` and ``exam-client diagnostics`` run on a PC whose graphics
stack is broken.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import tempfile
from collections.abc import Callable, Sequence
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
    parser.add_argument("--resume", action="store_true",
                        help=_("自动重启后回到考试（由客户端自己使用）"))
    parser.add_argument("--camera-source", type=Path,
                        help=_("用视频/图片文件或图片目录代替摄像头（测试、演示、技术支持）"))
    parser.add_argument("--self-test", action="store_true",
                        help=_("加载全部子系统并退出（安装包自检）"))
    # Build check (tools/build_frozen.py): import every module named in a JSON list and
    # print "MISSING name: error" for those that fail. Not for candidates, so not listed.
    parser.add_argument("--import-check", type=Path, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help=_("开始考试（默认）"))
    check = commands.add_parser(
        "check", help=_("考前环境检查：系统、摄像头、时钟、网络、远程控制与虚拟机检测"))
    check.add_argument("--json", action="store_true", help=_("输出机器可读的 JSON 报告"))
    check.add_argument("--gui", action="store_true", help=_("在窗口中显示检查结果"))
    check.add_argument("--out", type=Path, help=_("把 JSON 报告写入文件"))
    check.add_argument("--no-upload", action="store_true", help=_("不把报告发送给服务器"))
    check.add_argument("--integrity-only", action="store_true",
                       help=_("只做远程控制/虚拟机检测并打印结论"))
    check.add_argument("--dump-snapshot", type=Path,
                       help=_("记录本机检测快照到文件，供技术支持制作测试用例"))
    check.add_argument("--snapshot", type=Path, metavar="FILE",
                       help=_("不检测本机，改为评估记录下来的检测快照文件（技术支持复现问题）"))
    diagnostics = commands.add_parser("diagnostics", help=_("生成发给技术支持的诊断包（zip）"))
    diagnostics.add_argument("--out", type=Path, default=None, help=_("诊断包保存位置"))
    commands.add_parser("reset-render-level",
                        help=_("清除本机记住的渲染级别（管理员）"))
    unlock = commands.add_parser(
        "unlock-pc", help=_("解除考试崩溃后遗留的锁定（任务管理器、关机等，技术支持）"))
    unlock.add_argument("--all", action="store_true",
                        help=_("没有锁定记录时，清除考试会设置的全部系统限制"))
    commands.add_parser("gpu-probe", help=_("显卡信息探测（诊断包内部使用）"))
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
    if args.import_check is not None:
        return run_import_check(args.import_check)
    settings = read_settings(args.config)
    if args.self_test:
        from client.selftest import run_self_test

        return run_self_test(window_check=_login_window_check)
    command = args.command or "run"
    if command == "check":
        return run_check_command(settings, args)
    if command == "diagnostics":
        return run_diagnostics_command(settings, args.out)
    if command == "reset-render-level":
        from client.render import sentinel

        sentinel.reset_remembered_level(settings.data_dir / "render")
        print(_("已清除本机记住的渲染级别，下次启动将重新自动选择"))
        return 0
    if command == "unlock-pc":
        from client.lockdown.unlock import unlock_pc

        lines: list[str] = []
        code = unlock_pc(data_dir=settings.data_dir, remove_all=args.all, out=lines)
        print("\n".join(lines))
        return code
    if command == "gpu-probe":
        try:
            from client.ui.render_guard import main as gpu_probe
        except ImportError as exc:
            qt_unavailable(exc)
            return QT_UNAVAILABLE_EXIT
        return gpu_probe()
    try:
        if command == "demo":
            return run_demo(settings, start_in_s=args.start_in, duration_min=args.duration,
                            errors_to_stderr=args.errors_to_stderr,
                            camera_source=args.camera_source)
        return run_exam(settings, errors_to_stderr=args.errors_to_stderr,
                        camera_source=args.camera_source, resume=args.resume)
    except QtUnavailable:
        return QT_UNAVAILABLE_EXIT


QT_UNAVAILABLE_EXIT = 3


class QtUnavailable(Exception):
    """client.ui (PySide6) could not be imported; the candidate has been told in plain text."""


def qt_unavailable(exc: ImportError) -> QtUnavailable:
    """A client.ui import failed (Qt DLL missing, broken install): tell the person in plain
    text (Windows message box / stderr, no Qt needed) instead of a raw traceback."""
    from client.startup.deps import report_qt_import_failure

    log.error("cannot import the user interface: %s", exc)
    report_qt_import_failure(exc)
    return QtUnavailable(str(exc))


def run_import_check(modules_file: Path) -> int:
    """Import every module listed in *modules_file* (a JSON list of names)."""
    names: list[str] = json.loads(modules_file.read_text(encoding="utf-8"))
    missing = 0
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # any failure to import is what this check reports
            missing += 1
            print(f"MISSING {name}: {type(exc).__name__}: {exc}")
    print(f"imported {len(names) - missing} of {len(names)} modules")
    return 1 if missing else 0


def _login_window_check() -> str:
    # Imported only when the self-test reaches the window: a broken Qt fails this line
    # of the self-test instead of the whole command.
    from client.ui.selftest_window import check_login_window

    return check_login_window()


def run_check_command(settings: Settings, args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING)
    if args.gui:
        try:
            from client.ui.readiness_screen import run_readiness_window
        except ImportError as exc:
            qt_unavailable(exc)
            return QT_UNAVAILABLE_EXIT
        return run_readiness_window(settings)
    if args.integrity_only or args.dump_snapshot or args.snapshot:
        from client.integrity.cli import run_check

        return run_check(dump_snapshot=args.dump_snapshot, as_json=args.json,
                         snapshot_file=args.snapshot,
                         selected_camera=selected_camera_of(settings, camera_source=None))
    from client.readiness.runner import run_readiness

    return run_readiness(settings=settings, as_json=args.json, out=args.out,
                         upload=not args.no_upload)


def selected_camera_of(settings: Settings, *, camera_source: Path | None
                       ) -> Callable[[], str | None]:
    """The camera proctoring will open, for e-02 (a virtual one there blocks): the
    candidate's remembered choice, read at each scan. Nothing when proctoring reads a file
    or the camera is off. (By default the camera module never picks a virtual camera.)"""

    def current() -> str | None:
        if camera_source is not None or settings.get("camera/source") is not None \
                or not settings.get("camera/enabled"):
            return None
        from client.camera.devices import DeviceChoiceStore

        remembered = DeviceChoiceStore(settings.data_dir).load()
        if remembered is None:
            return None
        return remembered.path or remembered.name

    return current


def run_diagnostics_command(settings: Settings, out: Path | None) -> int:
    from client.diagnostics.collect import collect_diagnostics

    target = collect_diagnostics(settings, out=out)
    print(_("诊断包已生成：{path}").format(path=target))
    return 0


def run_exam(settings: Settings, *, errors_to_stderr: bool, camera_source: Path | None,
             resume: bool = False) -> int:
    from client.launch import prepare_launch

    launch = prepare_launch(settings, errors_to_stderr=errors_to_stderr)
    if launch is None:
        return 2
    from client.review.services import review_services_for
    from client.session.factory import create_session

    try:
        from client.ui.app import GuiOptions, run_gui
        from client.ui.checks import camera_checks_from, platform_integrity_checks
    except ImportError as exc:
        raise qt_unavailable(exc) from exc

    session = create_session(settings)
    from client.readiness.runner import last_report_path

    options = GuiOptions(server_url=settings.get("server/url"),
                         language=settings.get("ui/language"),
                         font_scale=settings.get("ui/font_scale"),
                         high_contrast=settings.get("ui/high_contrast"),
                         warnings=[problem.message() for problem in settings.problems],
                         readiness_first=not last_report_path(settings.data_dir).exists(),
                         resume=resume,
                         integrity=platform_integrity_checks(
                             enforce=True, low_end=launch.profile.low_end,
                             selected_camera=selected_camera_of(
                                 settings, camera_source=camera_source)),
                         camera=camera_checks_from(settings, enforce=True,
                                                   low_end=launch.profile.low_end,
                                                   source_override=camera_source),
                         review_factory=review_services_for)
    return run_gui(session, options, launch)


def run_demo(settings: Settings, *, start_in_s: float, duration_min: float,
             errors_to_stderr: bool, camera_source: Path | None) -> int:
    """Start the reference server on 127.0.0.1 with the demo exam, and the client on it."""
    from client.launch import prepare_launch
    from client.review.services import review_services_for
    from client.session.factory import create_session
    from server.console.demo_room import start_demo_room
    from server.demo import install_exam_day_rules
    from server.testing import live_server

    try:
        from client.ui.app import GuiOptions, run_gui
        from client.ui.checks import camera_checks_from, platform_integrity_checks
    except ImportError as exc:
        raise qt_unavailable(exc) from exc

    with tempfile.TemporaryDirectory(prefix="exam-demo-") as scratch:
        root = Path(scratch)
        with live_server(root / "server", demo=True, start_in_s=start_in_s,
                         duration_s=duration_min * 60) as server:
            assert server.demo is not None
            demo = server.demo
            # The pledge and the proctor by real name. The proctor's face is asked on
            # unlock only when a file plays the camera (--camera-source): the demo
            # proctor's photo is a stock portrait no real webcam user would match.
            install_exam_day_rules(settings=server.context.settings, db=server.db,
                                   keys=server.context.keys, clock=server.clock,
                                   proctor_face_match=camera_source is not None)
            settings = settings.with_overrides({
                "server/url": server.url,
                "server/center_id": demo.center_id,
                "data/directory": root / "client",
            })
            others = "；".join(f"{c.student_no} / {c.password}" for c in demo.candidates[1:])
            hint = _("演示考生：用户名 {username}，密码 {password}\n其他演示考生：{others}\n"
                     "演示考试将在启动约 {seconds} 秒后开始\n"
                     "监考模式（Ctrl+Alt+Shift+P）：{proctor} / {proctor_password}；"
                     "开考码 {start_code}").format(
                username=demo.username, password=demo.password, others=others,
                seconds=int(start_in_s), proctor=demo.proctor_name,
                proctor_password=demo.proctor_password, start_code=demo.start_code)
            # The console (a browser on this PC) shows the demo room with simulated seats.
            room = start_demo_room(server)
            print(room.banner, flush=True)
            hint = f"{hint}\n{room.banner}"
            launch = prepare_launch(settings, errors_to_stderr=errors_to_stderr)
            if launch is None:
                room.stop()
                return 2
            session = create_session(settings)
            # A demo often runs in a VM or beside a remote-desktop tool: findings are
            # shown as in a real exam, but do not lock the demo.
            options = GuiOptions(server_url=server.url, language=settings.get("ui/language"),
                                 font_scale=settings.get("ui/font_scale"),
                                 high_contrast=settings.get("ui/high_contrast"),
                                 demo_hint=hint,
                                 warnings=[p.message() for p in settings.problems],
                                 integrity=platform_integrity_checks(
                                     enforce=False, low_end=launch.profile.low_end,
                                     selected_camera=selected_camera_of(
                                         settings, camera_source=camera_source)),
                                 camera=camera_checks_from(settings, enforce=False,
                                                           low_end=launch.profile.low_end,
                                                           source_override=camera_source),
                                 review_factory=review_services_for)
            try:
                return run_gui(session, options, launch)
            finally:
                room.stop()


if __name__ == "__main__":
    sys.exit(main())
