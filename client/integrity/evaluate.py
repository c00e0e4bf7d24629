"""Snapshot + rules -> findings. Pure: no I/O, no clock, no global state.

Every decision about e-01 (remote control) and e-02 (virtual devices) is made here, so the
golden tests in tests/integrity/ exercise exactly the code that runs in an exam room.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from client.devices.virtual_camera import virtual_camera_reason
from client.integrity.findings import Code, Finding, Kind
from client.integrity.imagepath import executable_name
from client.integrity.rules import LocalizedName, Rules, ToolRule, norm
from client.integrity.snapshot import CameraInfo, DisplayInfo, ProcessInfo, Snapshot
from client.integrity.vm_score import score_vm

DISPLAY_ATTACHED_TO_DESKTOP = 0x1
DISPLAY_MIRRORING_DRIVER = 0x8


def evaluate(snapshot: Snapshot, rules: Rules) -> list[Finding]:
    findings: list[Finding] = []
    findings += _remote_tools(snapshot, rules)
    findings += _session(snapshot)
    findings += _vm(snapshot, rules)
    findings += _sandboxes(snapshot, rules)
    findings += _cameras(snapshot, rules)
    findings += _displays(snapshot, rules)
    findings += _virtual_audio(snapshot, rules)
    findings += _unavailable_sources(snapshot)
    findings += _unverified_processes(snapshot)
    kept = [
        f
        for f in findings
        if rules.enabled(f.check) and not rules.machine_exempt(snapshot.machine_id, f.check)
    ]
    return sorted(kept, key=lambda f: (not f.blocking, f.code, f.kind, f.subject))


# ------------------------------------------------------------------ e-01 remote control


@dataclass
class _ToolHits:
    tool: ToolRule
    processes: list[ProcessInfo] = field(default_factory=list)
    running_services: list[str] = field(default_factory=list)
    installed_services: list[str] = field(default_factory=list)


def _remote_tools(snap: Snapshot, rules: Rules) -> Iterator[Finding]:
    hits: dict[str, _ToolHits] = {}
    allowed_services: set[str] = set()
    allowed_binaries: set[str] = set()
    for proc in snap.processes:
        # The compiled-in name first: a renamed copy is reported as what it really is.
        tool = rules.tool_for_process_name(proc.original_filename) or rules.tool_for_process_name(
            proc.name
        )
        if tool is None:
            continue
        if tool.category == "lab_management" and rules.policy(tool.category) == "allow":
            continue
        if proc.unverified:
            # Its image file could not be read in time: the signer, original name and
            # parent are unknown, so no exception or allow entry may excuse it (stalling
            # a read must not slip a renamed-but-signed check).
            hits.setdefault(tool.id, _ToolHits(tool)).processes.append(proc)
            continue
        if tool.excused(exe=proc.exe, parent=proc.parent, signer=proc.signer):
            continue  # e.g. WSLg's msrdc.exe under wslhost.exe: not a remote session
        if rules.process_allowed(
            name=proc.name, original_filename=proc.original_filename, signer=proc.signer,
            exe=proc.exe,
        ):
            if proc.service:
                allowed_services.add(norm(proc.service))
            allowed_binaries.add(norm(proc.name))
            continue
        hits.setdefault(tool.id, _ToolHits(tool)).processes.append(proc)
    for svc in snap.services:
        binary = executable_name(svc.binary_path)
        tool = rules.tool_for_service(svc.name) or rules.tool_for_process_name(binary)
        if tool is None or norm(svc.name) in allowed_services:
            continue
        if tool.category == "lab_management" and rules.policy(tool.category) == "allow":
            continue
        entry = hits.setdefault(tool.id, _ToolHits(tool))
        if norm(svc.state) == "running":
            entry.running_services.append(svc.name)
        elif norm(binary) not in allowed_binaries:
            entry.installed_services.append(svc.name)
    for entry in hits.values():
        yield from _tool_findings(entry, rules)


_CHECK_OF_CATEGORY = {"remote_control": "remote_tool", "screen_capture": "screen_capture",
                      "lab_management": "lab_software"}
_KIND_OF_CATEGORY: dict[str, Kind] = {"remote_control": "remote_tool_process",
                                      "screen_capture": "screen_capture_process",
                                      "lab_management": "lab_software_process"}


def _tool_findings(hits: _ToolHits, rules: Rules) -> Iterator[Finding]:
    tool = hits.tool
    code: Code = "e-01"
    check = _CHECK_OF_CATEGORY[tool.category]
    policy = rules.policy(tool.category)
    severity = tool.severity if policy is None or policy == "allow" else policy
    # Processes of the candidate's own session first: those they can close themselves.
    desktop = sorted((p for p in hits.processes if not p.service), key=lambda p: p.system)
    service_procs = [p for p in hits.processes if p.service]
    running = sorted({*hits.running_services, *(p.service for p in service_procs)})
    evidence = tuple(_process_evidence(p) for p in hits.processes) + tuple(
        f"service running: {s}" for s in hits.running_services
    )
    if desktop:
        # A SYSTEM / session-0 process cannot be ended by a standard user: say "call the
        # proctor" instead of "please exit" (the candidate could not comply).
        who = "proctor" if all(p.system for p in desktop) else "candidate"
        yield Finding(code, check, _KIND_OF_CATEGORY[tool.category], severity, tool.id,
                      tool.name, evidence, {"exe": desktop[0].name, "who": who,
                                            "category": tool.category})
    elif running:
        # Only a service is running: the candidate cannot stop it, a proctor must.
        yield Finding(code, check, "remote_tool_service_running", severity, tool.id,
                      tool.name, evidence, {"service": running[0], "who": "proctor",
                                            "category": tool.category})
    if hits.installed_services and not desktop and not running:
        yield Finding(
            code, "remote_tool_service", "remote_tool_service_installed", "warn", tool.id,
            tool.name, tuple(f"service installed, not running: {s}"
                             for s in hits.installed_services),
            {"service": hits.installed_services[0]},
        )


def _process_evidence(p: ProcessInfo) -> str:
    parts = [f"process {p.name} pid={p.pid}"]
    if p.original_filename and norm(p.original_filename) != norm(p.name):
        parts.append(f"original_filename={p.original_filename}")
    if p.exe:
        parts.append(f"exe={p.exe}")
    if p.signer:
        parts.append(f"signer={p.signer}")
    if p.service:
        parts.append(f"service={p.service}")
    if p.parent:
        parts.append(f"parent={p.parent}")
    if p.system:
        parts.append("system=true")
    if p.unverified:
        parts.append("unverified=image file not readable in time")
    return " ".join(parts)


_SESSION_NAMES = {
    "remote_session": LocalizedName("远程桌面会话", "remote desktop session"),
    "session_shadowed": LocalizedName("远程查看或控制", "remote viewing or control"),
}


def _session(snap: Snapshot) -> Iterator[Finding]:
    s = snap.session
    evidence: list[str] = []
    if s.remote_session:
        evidence.append("remote_session=true")
    if s.wts_protocol == 2:
        evidence.append("wts_protocol=2 (RDP)")
    if (
        s.session_id is not None
        and s.glass_session_id is not None
        and s.session_id != s.glass_session_id
    ):
        evidence.append(f"session_id={s.session_id} != glass_session_id={s.glass_session_id}")
    if evidence:
        yield Finding("e-01", "remote_session", "remote_session", "block", "remote_session",
                      _SESSION_NAMES["remote_session"], tuple(evidence))
    if s.remote_control_shadowed:
        yield Finding("e-01", "session_shadowed", "session_shadowed", "block",
                      "session_shadowed", _SESSION_NAMES["session_shadowed"],
                      ("remote_control_shadowed=true",))


# ------------------------------------------------------------------ e-02 virtual devices


def _vm(snap: Snapshot, rules: Rules) -> Iterator[Finding]:
    verdict = score_vm(snap, rules.vm)
    if not verdict.is_vm:
        return
    name = rules.vm.families.get(verdict.family, LocalizedName(verdict.family, verdict.family))
    evidence = tuple(f"{s.id} (+{s.weight}{' strong' if s.strong else ''}): {s.evidence}"
                     for s in verdict.signals)
    yield Finding("e-02", "vm", "vm", "block", verdict.family, name,
                  (f"score={verdict.score} threshold={rules.vm.threshold}", *evidence))


def _sandboxes(snap: Snapshot, rules: Rules) -> Iterator[Finding]:
    modules = {norm(m) for m in snap.loaded_modules_of_interest}
    user = norm(snap.username)
    for box in rules.sandboxes:
        evidence = [f"module loaded: {m}" for m in sorted(box.modules & modules)]
        if user and user in box.usernames:
            evidence.append(f"username={snap.username}")
        if evidence:
            yield Finding("e-02", "sandbox", "sandbox", "block", box.id, box.name,
                          tuple(evidence))


def camera_is_virtual(camera: CameraInfo, rules: Rules) -> str | None:
    """Why *camera* is virtual, or None if real: the one classifier the camera module
    uses too (client/devices/virtual_camera.py), extended by the rules' signed lists.
    In a snapshot an empty device path means a DirectShow software filter."""
    return virtual_camera_reason(name=camera.name, path=camera.device_path,
                                 missing_path_is_software=True,
                                 extra_names=rules.cameras.names,
                                 extra_path_prefixes=rules.cameras.software_path_prefixes)


def _cameras(snap: Snapshot, rules: Rules) -> Iterator[Finding]:
    for cam in snap.cameras:
        reason = camera_is_virtual(cam, rules)
        if reason is None:
            continue
        name = LocalizedName(cam.name, cam.name)
        evidence = (f"camera {cam.name!r} path={cam.device_path!r}: {reason}",)
        subject = cam.device_path or cam.name
        if cam.is_selected:
            # Only the camera the proctoring module opens can feed it fake video.
            yield Finding("e-02", "virtual_camera", "virtual_camera_selected", "block",
                          subject, name, evidence)
        else:
            yield Finding("e-02", "virtual_camera", "virtual_camera_installed", "warn",
                          subject, name, evidence)


def display_is_virtual(display: DisplayInfo, rules: Rules) -> str | None:
    if display.flags & DISPLAY_MIRRORING_DRIVER:
        return "mirroring driver"
    device = norm(display.device_id)
    if device.startswith(rules.displays.root_prefix) and not any(
        device.startswith(allowed) for allowed in rules.displays.root_allowed
    ):
        return f"software display adapter {display.device_id}"
    name = norm(display.name)
    for known in rules.displays.names:
        if known in name:
            return f"known virtual display {display.name!r}"
    return None


def _displays(snap: Snapshot, rules: Rules) -> Iterator[Finding]:
    active = [d for d in snap.displays if d.flags & DISPLAY_ATTACHED_TO_DESKTOP]
    physical: list[DisplayInfo] = []
    for display in active:
        reason = display_is_virtual(display, rules)
        if reason is None:
            physical.append(display)
            continue
        label = display.name or display.device_id
        yield Finding("e-02", "virtual_display", "virtual_display", "block",
                      display.device_id or display.name, LocalizedName(label, label),
                      (f"display {label!r} flags=0x{display.flags:x}: {reason}",))
    allowed = rules.displays.max_displays
    if len(physical) > allowed:
        yield Finding(
            "e-02", "display_count", "display_count", "block", "display_count",
            LocalizedName("多台显示器", "several displays"),
            tuple(f"display {d.name or d.device_id} monitor={d.monitor_id}" for d in physical),
            {"count": str(len(physical)), "allowed": str(allowed)},
        )


def _virtual_audio(snap: Snapshot, rules: Rules) -> Iterator[Finding]:
    audio = rules.audio
    hits: dict[str, list[str]] = {}
    for driver in snap.drivers_loaded:
        value = norm(driver)
        for prefix in audio.driver_prefixes:
            if value.startswith(prefix):
                hits.setdefault(prefix, []).append(f"driver loaded: {driver}")
    for device in snap.pnp_device_ids:
        value = norm(device)
        for fragment in audio.pnp_contains:
            if fragment in value:
                hits.setdefault(fragment, []).append(f"device present: {device}")
    by_name: dict[LocalizedName, list[str]] = {}
    for fragment, evidence in hits.items():
        name = audio.names.get(fragment, LocalizedName(fragment, fragment))
        by_name.setdefault(name, []).extend(evidence)
    for name, evidence in by_name.items():
        yield Finding("e-02", "virtual_audio", "virtual_audio", audio.severity, name.en,
                      name, tuple(evidence))


_SOURCE_NAMES = {
    "processes": LocalizedName("进程列表", "process list"),
    "services": LocalizedName("服务列表", "service list"),
    "session": LocalizedName("会话信息", "session information"),
    "drivers": LocalizedName("已加载驱动列表", "loaded driver list"),
    "cameras": LocalizedName("摄像头列表", "camera list"),
    "displays": LocalizedName("显示器列表", "display list"),
    "pnp_devices": LocalizedName("设备列表", "device list"),
    "smbios": LocalizedName("主板信息", "firmware (SMBIOS) information"),
    "cpu": LocalizedName("处理器与虚拟化信息", "processor and hypervisor information"),
    "network": LocalizedName("网络适配器", "network adapters"),
    "snapshot": LocalizedName("完整检测", "full scan"),
    "process_images": LocalizedName("进程程序文件", "process image files"),
}


def source_label(error: str) -> str:
    """"cameras: TypeError: ..." -> "cameras" (Snapshot.errors are "source: reason")."""
    return error.split(":", 1)[0].strip() or "unknown"


def _unavailable_sources(snap: Snapshot) -> Iterator[Finding]:
    by_source: dict[str, list[str]] = {}
    for error in snap.errors:
        by_source.setdefault(source_label(error), []).append(error)
    for source, errors in sorted(by_source.items()):
        name = _SOURCE_NAMES.get(source, LocalizedName(source, source))
        reason = errors[0].split(":", 1)[1].strip() if ":" in errors[0] else errors[0]
        yield Finding("e-02" if source in _E02_SOURCES else "e-01", "source_unavailable",
                      "source_unavailable", "warn", source, name, tuple(errors),
                      {"reason": reason})


def _unverified_processes(snap: Snapshot) -> Iterator[Finding]:
    """Processes whose image file could not be read in time (client/integrity/pid_reads.py).

    They are still judged by name (a tool's name blocks); what cannot be seen is a tool
    renamed to an innocent name, so the proctor is told which files were unreadable.
    """
    late = [p for p in snap.processes if p.unverified]
    if not late:
        return
    evidence = tuple(f"process_images: {p.name} pid={p.pid} exe={p.exe or '?'}: "
                     "image file not readable in time" for p in late)
    yield Finding("e-01", "source_unavailable", "source_unavailable", "warn", "process_images",
                  _SOURCE_NAMES["process_images"], evidence,
                  {"reason": f"{', '.join(sorted({p.name for p in late}))}: "
                             "image file not readable in time"})


# Which code a blind source weakens: device/VM sources e-02, process/session sources e-01.
_E02_SOURCES = frozenset({"drivers", "cameras", "displays", "pnp_devices", "smbios", "cpu",
                          "network", "modules"})
