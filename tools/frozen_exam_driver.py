"""Drive a running Exam Client through a whole exam with real X input events.

Runs with the system Python (Debian's python3-pyatspi, GObject introspection), not the
project's virtual environment: tools/frozen_exam.py starts it inside the X display and the
D-Bus session where the frozen client runs. The client is found through Qt's
accessibility tree (AT-SPI): roles, names and on-screen rectangles of its widgets. Every
action is a real input event sent with xdotool (mouse clicks, key presses, typed text),
so the frozen program handles it exactly as it handles a candidate's mouse and keyboard.

    python3 frozen_exam_driver.py PLAN.json

PLAN.json: {"username": ..., "password": ... or null (read the demo hint on the login
page), "answers": [{"stem": text, "type": ..., "value": ...}], "timeout_s": ...}, and
optionally:
- "pledge": the pledge text expected after the download: read it (scrolled to its end),
  tick the box (the agree button must be disabled before), agree;
- "proctor": {"name", "password" (null: read from the demo hint), "materials": {"room",
  "reason", "candidates"}}: on the exam page, open proctor mode (Ctrl+Alt+Shift+P), unlock
  (the exam asks for the proctor's face: the panel must show the match), open 应急材料,
  take a room photo with the camera, mark candidates, give the reason, submit, close;
- "expect_refused": texts the login page must show instead of letting the login in (an
  old client below the exam's version floor): the run ends there.
Prints one line per step and, last, a JSON line ``RESULT {...}``: the score shown on the
result page, or the integrity gate's message when the enforced check keeps the exam
closed, or the refusal. Exit status 0 when every step was seen through, 1 otherwise.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyatspi  # type: ignore[import-not-found]

APP_NAME = "ExamClient"


class DriverError(Exception):
    pass


def step(message: str) -> None:
    print(f"[driver {time.strftime('%H:%M:%S')}] {message}", flush=True)


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True)


# -- the accessibility tree -------------------------------------------------------------


def application() -> Any:
    desktop = pyatspi.Registry.getDesktop(0)
    for app in desktop:
        if app is not None and app.name == APP_NAME:
            return app
    return None


def walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        try:
            children = list(current)
        except Exception:  # a widget destroyed while walking (page switch)
            continue
        stack.extend(child for child in reversed(children) if child is not None)


def extents(node: Any) -> tuple[int, int, int, int]:
    rect = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    return rect.x, rect.y, rect.width, rect.height


def visible(node: Any) -> bool:
    try:
        states = node.getState()
        if not states.contains(pyatspi.STATE_SHOWING):
            return False
        _x, _y, width, height = extents(node)
    except Exception:
        return False
    return width > 0 and height > 0


def widgets(role: str, name: str | Callable[[str], bool] | None = None) -> list[Any]:
    app = application()
    if app is None:
        return []
    found = []
    for node in walk(app):
        try:
            if node.getRoleName() != role:
                continue
            label = node.name or ""
        except Exception:
            continue
        matches = name is None or (label == name if isinstance(name, str) else name(label))
        if matches and visible(node):
            found.append(node)
    return found


def wait_for(description: str, probe: Callable[[], Any], *, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = probe()
        except Exception:  # the tree changes under us while pages switch
            value = None
        if value:
            return value
        time.sleep(0.3)
    raise DriverError(f"timed out after {timeout_s:.0f} s waiting for {description}")


def one(role: str, name: str | Callable[[str], bool] | None = None, *,
        timeout_s: float = 30.0) -> Any:
    label = name if isinstance(name, str) or name is None else "(matching)"
    return wait_for(f"{role} {label!r}", lambda: (widgets(role, name) or [None])[0],
                    timeout_s=timeout_s)


def labels() -> list[str]:
    return [node.name for node in widgets("label") if node.name]


def enabled(node: Any) -> bool:
    return bool(node.getState().contains(pyatspi.STATE_ENABLED))


def inside(container: Any, role: str) -> list[Any]:
    """The visible *role* widgets in *container*, top to bottom."""
    found = [node for node in walk(container)
             if node.getRoleName() == role and visible(node)]
    return sorted(found, key=lambda node: extents(node)[1])


# -- real input ---------------------------------------------------------------------------


def click(node: Any) -> None:
    x, y, width, height = extents(node)
    xdotool("mousemove", "--sync", str(x + width // 2), str(y + height // 2))
    xdotool("click", "1")
    time.sleep(0.15)


def scroll_down_over(node: Any) -> None:
    """Turn the mouse wheel down over *node* (its scroll area follows)."""
    x, y, width, height = extents(node)
    xdotool("mousemove", "--sync", str(x + width // 2), str(y + height // 2))
    xdotool("click", "--repeat", "10", "--delay", "30", "5")
    time.sleep(0.3)


def text_of(node: Any) -> str | None:
    try:
        return str(node.queryText().getText(0, -1))
    except Exception:  # a widget without the text interface
        return None


def type_into(node: Any, text: str, *, verify: bool = True) -> None:
    """Click into the field and type *text*; read it back through the accessibility tree
    and type again (slower) when a key was lost: xdotool types characters outside the
    keyboard layout (Chinese) by remapping a key, which an X server under load can drop.
    A password field shows only bullets: *verify* False."""
    # Chinese text starts slower: the fast rate lost most of its characters under load.
    for delay_ms in (40, 120, 250) if text.isascii() else (120, 250, 400):
        click(node)
        xdotool("key", "ctrl+a")
        xdotool("type", "--delay", str(delay_ms), text)
        time.sleep(0.3)
        shown = text_of(node) if verify else None
        if shown is None or shown == text:
            return
        step(f"typed {text!r}, the field shows {shown!r}: typing again")
    raise DriverError(f"could not type {text!r} into the field")


SNAPSHOT: dict[str, str] = {}  # plan["screenshots"]: {"python": ..., "folder": ...}


def screenshot(name: str) -> None:
    """Save the X screen as <folder>/<name>.png (with the project's Pillow, which this
    system Python lacks)."""
    if not SNAPSHOT:
        return
    target = f"{SNAPSHOT['folder']}/{name}.png"
    subprocess.run([SNAPSHOT["python"], "-c",
                    "import os, sys; from PIL import ImageGrab; "
                    "ImageGrab.grab(xdisplay=os.environ['DISPLAY']).save(sys.argv[1])", target],
                   check=False, timeout=60)
    step(f"screenshot {target}")


def key(name: str) -> None:
    xdotool("key", name)
    time.sleep(0.15)


# -- the exam -----------------------------------------------------------------------------


def demo_hint() -> str:
    return str(wait_for("the demo hint on the login page", lambda: next(
        (text for text in labels() if "演示考生" in text), None), timeout_s=60))


def demo_credentials() -> tuple[str, str]:
    hint = demo_hint()
    match = re.search(r"用户名 (\S+)，密码 (\S+)", hint)
    if match is None:
        raise DriverError(f"no credentials in the demo hint: {hint!r}")
    return match.group(1), match.group(2)


def demo_proctor_password(name: str) -> str:
    match = re.search(rf"{re.escape(name)} / (\S+?)；", demo_hint())
    if match is None:
        raise DriverError(f"no password of proctor {name} in the demo hint")
    return match.group(1)


def log_in(username: str, password: str, *, shot: bool = True) -> None:
    field = one("text", "用户名", timeout_s=60)
    if shot:
        screenshot("1-login")
    type_into(field, username)
    type_into(one("password text", "密码"), password, verify=False)
    click(one("push button", "登录"))
    step(f"logged in as {username}")


def refused_login(expected: list[str]) -> str:
    """The login page's refusal (an old client): every expected text in one message."""
    shown = wait_for("the login refused with " + " / ".join(expected), lambda: next(
        (text for text in labels() if all(part in text for part in expected)), None),
        timeout_s=60)
    if widgets("push button", "交卷") or any("试卷已下载" in text for text in labels()):
        raise DriverError("the refused client got past the login")
    step(f"login refused: {shown}")
    screenshot("frozen-version-floor")
    return str(shown)


def accept_pledge(expected: str) -> None:
    """考试承诺书: read to the end, tick the box, agree."""
    wait_for("the pledge page", lambda: "考试承诺书" in labels(), timeout_s=90)
    text = wait_for("the pledge text", lambda: next(
        (node for node in widgets("text") if (text_of(node) or "").strip() == expected.strip()),
        None), timeout_s=20)
    step("pledge page shows the exam's pledge")
    click(text)
    key("ctrl+End")  # read to the end
    agree = one("push button", "同意并进入候考")
    if enabled(agree):
        raise DriverError("the pledge could be agreed to without ticking the box")
    screenshot("frozen-pledge")
    click(one("check box", "我已阅读并同意遵守以上承诺"))
    wait_for("the agree button enabled", lambda: enabled(agree), timeout_s=10)
    click(agree)
    step("pledge accepted")


def dialog(title: str, *, timeout_s: float = 30.0) -> Any:
    return one("dialog", title, timeout_s=timeout_s)


def proctor_materials(proctor: dict[str, Any]) -> dict[str, Any]:
    """Proctor mode during the exam: unlock (name, password, the face match), the
    emergency materials (a room photo, candidates, reason) submitted, proctor mode ended."""
    name, password = proctor["name"], proctor["password"]
    key("ctrl+alt+shift+p")
    panel = dialog("监考模式")
    fields = inside(panel, "text")
    if not fields:
        raise DriverError("no name field in proctor mode")
    type_into(fields[0], name)
    type_into(one("password text"), password, verify=False)
    click(one("push button", "解锁"))
    step(f"proctor {name} unlocking (password, then the face in front of the camera)")

    def unlocked() -> str | None:
        for text in labels():
            if "人脸比对通过" in text and name in text:
                return text
            if "比对未通过" in text or "没有看到监考教师的脸" in text \
                    or "没有可用的摄像头" in text or "密码错误" in text:
                raise DriverError(f"proctor mode refused: {text}")
        return None

    shown = str(wait_for("proctor mode unlocked after the face match", unlocked,
                         timeout_s=90))
    # "…相似度 0.96（要求 0.36）"
    number = r"\d+\.\d+"
    found = [re.search(number, part)
             for part in shown.split("相似度")[1:2] + shown.split("要求")[1:2]]
    if len(found) != 2 or found[0] is None or found[1] is None:
        raise DriverError(f"no similarity on the unlocked panel: {shown!r}")
    similarity, threshold = float(found[0].group()), float(found[1].group())
    step(f"proctor unlocked: {shown.replace(chr(10), ' | ')}")
    screenshot("frozen-proctor-face-match")

    materials = proctor["materials"]
    # The unlocked panel scrolls on a 768-line screen: wheel down over its header first,
    # as a proctor would, so the bottom row (应急材料, the exit) is on screen to click.
    scroll_down_over(one("label", lambda text: text.startswith("监考教师：")))
    click(one("push button", "应急材料"))
    form = dialog("应急材料")
    # The form's fields top to bottom: center and its address (filled in from the login
    # answer and locked), room, candidates, reason.
    center, address, room, candidates, reason = inside(form, "text")[:5]
    if not text_of(center) or not text_of(address):
        raise DriverError(f"center not filled in: {text_of(center)!r} {text_of(address)!r}")
    type_into(room, materials["room"])
    type_into(candidates, materials["candidates"])
    type_into(reason, materials["reason"])
    click(one("push button", "拍摄考场全景照片"))
    taken = wait_for("the room photo taken", lambda: next(
        (t for t in labels() if t == "已拍摄 1 张照片" or t.startswith("拍摄失败")), None),
        timeout_s=60)
    if taken != "已拍摄 1 张照片":
        raise DriverError(f"no room photo: {taken}")
    step("room photo taken with the camera (watermarked)")
    screenshot("frozen-materials")
    click(one("push button", "提交应急材料"))
    outcome = wait_for("the materials submitted", lambda: next(
        (t for t in labels() if t == "应急材料已提交到服务器" or t.startswith("提交失败")
         or "待上传" in t), None), timeout_s=60)
    if outcome != "应急材料已提交到服务器":
        raise DriverError(f"materials not submitted: {outcome}")
    step("emergency materials submitted to the server")
    close = [node for node in inside(form, "push button") if node.name == "关闭"]
    if not close:
        raise DriverError("no close button on the materials dialog")
    click(close[0])
    click(one("push button", "结束监考模式"))
    wait_for("proctor mode closed", lambda: not widgets("dialog", "监考模式"), timeout_s=20)
    step("proctor mode ended, back to the exam")
    return {"proctor_similarity": similarity, "proctor_threshold": threshold}


TYPE_NAMES = {"single": "单选题", "multiple": "多选题", "true_false": "判断题",
              "fill_blank": "填空题", "essay": "简答题"}


def current_question(plan: list[dict[str, Any]]) -> dict[str, Any]:
    """The plan entry of the question on screen, from its header ("第 3 题　单选题"): the
    plan is in the paper's order; the header's type must agree with the plan's."""
    for text in labels():
        match = re.search(r"第 (\d+) 题\s*(\S+题)", text)
        if match is None:
            continue
        entry = plan[int(match.group(1)) - 1]
        if TYPE_NAMES[entry["type"]] != match.group(2):
            raise DriverError(f"question {match.group(1)} is {match.group(2)} on screen, "
                              f"{entry['type']} in the paper")
        return entry
    raise DriverError("no question header on screen")


def answer(entry: dict[str, Any]) -> None:
    kind, value = entry["type"], entry["value"]
    if value is None:
        return
    # Options are named "B. H2O" (id and text), or just "B" by older clients.
    def option(option_id: str) -> Callable[[str], bool]:
        return lambda name: name == option_id or name.startswith(f"{option_id}. ")

    if kind == "single":
        click(one("radio button", option(value)))
    elif kind == "multiple":
        for option_id in value:
            click(one("check box", option(option_id)))
    elif kind == "true_false":
        click(one("radio button", "正确" if value else "错误"))
    elif kind == "fill_blank":
        fields = sorted(widgets("text", lambda name: name == "" or re.fullmatch(
            r"第 \d+ 空", name) is not None), key=lambda n: extents(n)[1])
        if len(fields) < len(value):
            raise DriverError(f"{len(fields)} blank fields on screen, {len(value)} answers")
        for field, text in zip(fields, value, strict=False):
            type_into(field, text)
            key("Tab")  # editingFinished: the blank's answer is saved
    elif kind == "essay":
        fields = widgets("text", lambda name: name == "" or name.startswith("简答作答区"))
        if not fields:
            raise DriverError("no essay field on screen")
        type_into(max(fields, key=lambda n: extents(n)[3]), value)
    else:
        raise DriverError(f"unknown question type {kind}")


def take_exam(plan: list[dict[str, Any]], *, timeout_s: float,
              during: Callable[[], None] | None = None) -> str:
    one("push button", "交卷", timeout_s=timeout_s)
    step("exam page shown")
    if during is not None:
        during()
    done: set[int] = set()
    for _turn in range(len(plan) * 2):
        entry = wait_for("a question of the plan", lambda: current_question(plan), timeout_s=20)
        index = plan.index(entry)
        if index not in done:
            answer(entry)
            done.add(index)
            step(f"answered {entry['type']}: {json.dumps(entry['value'], ensure_ascii=False)}")
        if len(done) == len(plan):
            break
        click(one("push button", "下一题"))
    if len(done) != len(plan):
        raise DriverError(f"answered {len(done)} of {len(plan)} questions")
    screenshot("3-exam-answered")
    wait_for("every answer acknowledged by the server",
             lambda: any("已同步" in text for text in labels()), timeout_s=60)
    step("answers synchronised with the server")
    click(one("push button", "交卷"))
    # "确认交卷（交卷后不能修改）" (its accessible name), or "确认交卷" in older clients
    click(one("push button", lambda name: name.startswith("确认交卷")))
    step("submitted")
    # The score; "成绩计算中" until the server answered; "待审核" when it holds the attempt
    # for review (it does on a virtual machine: the integrity finding goes with the
    # answers). tools/frozen_exam.py checks the score the server computed either way.
    shown = wait_for("the result page", lambda: next(
        (text for text in labels()
         if re.fullmatch(r"\s*[\d.]+\s*/\s*[\d.]+\s*", text)
         or text in ("成绩计算中，请稍后查询", "待审核")), None),
        timeout_s=60)
    step(f"result page shows {shown}")
    screenshot("4-result")
    return str(shown)


def main(argv: list[str]) -> int:
    plan = json.loads(open(argv[1], encoding="utf-8").read())  # noqa: SIM115
    SNAPSHOT.update(plan.get("screenshots") or {})
    timeout_s = float(plan.get("timeout_s", 120))
    try:
        wait_for("the client's window in the accessibility tree",
                 lambda: widgets("frame"), timeout_s=90)
        username, password = plan.get("username"), plan.get("password")
        if username is None:
            username, password = demo_credentials()
        proctor = plan.get("proctor")
        if proctor and proctor.get("password") is None:  # the demo hint names it
            proctor["password"] = demo_proctor_password(proctor["name"])
        log_in(username, password, shot=not plan.get("expect_refused"))
        if plan.get("expect_refused"):
            shown = refused_login(plan["expect_refused"])
            print("RESULT " + json.dumps({"refused": shown}, ensure_ascii=False), flush=True)
            return 0
        if plan.get("pledge"):
            accept_pledge(plan["pledge"])
        # Waiting room with the paper preloaded, or straight into the exam when it has
        # already started.
        wait_for("the paper preloaded (waiting room) or the exam page", lambda: any(
            "试卷已下载" in text for text in labels()) or widgets("push button", "交卷"),
            timeout_s=90)
        step("paper preloaded")
        screenshot("2-waiting-or-exam")
        if plan.get("enforced"):
            # exam-client run enforces the integrity check: on a virtual machine its gate
            # keeps the exam closed, which is the expected end of the run there.
            outcome = wait_for("the exam page or the integrity gate", lambda: next(
                (text for text in labels() if "检测未通过" in text
                 or "请在实体电脑上考试" in text), None) or (
                "exam" if widgets("push button", "交卷") else None), timeout_s=timeout_s)
            if outcome != "exam":
                step(f"integrity gate shows: {outcome}")
                print("RESULT " + json.dumps({"gate": outcome}, ensure_ascii=False),
                      flush=True)
                return 0
        found: dict[str, Any] = {}
        score = take_exam(plan["answers"], timeout_s=timeout_s, during=None if not proctor
                          else lambda: found.update(proctor_materials(proctor)))
        print("RESULT " + json.dumps({"score": score, **found}, ensure_ascii=False),
              flush=True)
        return 0
    except DriverError as exc:
        step(f"FAILED: {exc}")
        step("labels on screen: " + " | ".join(labels())[:1500])
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
