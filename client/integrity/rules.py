"""The detection rules: a signed, versioned data file, verified and normalised once at load.

Why data and not code: the list of remote-control tools grows one bypass report at a time
(Safe Exam Browser's history), so the exam server can ship a newer, signed list with the
paper package without a new client build. The file format is documented in
docs/integrity.md; resources/integrity/rules.json is the built-in copy.

Trust: a rules file is accepted only if its detached Ed25519 signature verifies against
the vendor rules key (public half below; the private half is never committed, see
resources/integrity/README.md) or against the exam server's signing key given by the
caller. A refused file never replaces the rules in force: the caller keeps the built-in
rules and shows/logs the error.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from client.errors import UserFacingError
from client.i18n import _
from client.resources import resource_path

RULES_FORMAT = 1
# Signatures cover this prefix + the file bytes, so a signature made for a rules file can
# never be replayed as a signature over anything else the same key signs (packages).
SIGNATURE_CONTEXT = b"exam-client/integrity-rules/v1\x00"
# Public half of the vendor rules key (raw Ed25519, base64). Provenance:
# resources/integrity/README.md.
VENDOR_RULES_PUBLIC_KEY_B64 = "CrjB0mnHmy6ztpVxW1T0ra8I9hOYL14cAK9Lefb85xs="

Severity = Literal["block", "warn"]
CHECK_IDS = (
    "remote_tool",  # remote-control process running (e-01)
    "remote_tool_service",  # remote-control service installed but not running (e-01, warn)
    "screen_capture",  # screen sharing / recording software (e-01)
    "remote_session",  # RDP / remote login (e-01)
    "session_shadowed",  # the session is being watched or controlled (e-01)
    "vm",  # virtual machine by weighted signals (e-02)
    "sandbox",  # Sandboxie, Windows Sandbox (e-02)
    "virtual_camera",  # selected camera is virtual (block) / one is installed (warn) (e-02)
    "virtual_display",  # mirror driver or indirect virtual display active (e-02)
    "display_count",  # more active displays than allowed (e-02)
    "lab_software",  # classroom management software (e-01), per-centre policy
    "virtual_audio",  # virtual audio cable / mixer drivers (e-02)
    "source_unavailable",  # a collector source could not be read (recorded, never blocks)
)
Category = Literal["remote_control", "screen_capture", "lab_management"]
# What a centre decides for its classroom management software (rules "policies").
Policy = Literal["block", "warn", "allow"]


class RulesError(UserFacingError):
    """A rules file was refused; the rules already in force stay."""


def norm(text: str) -> str:
    """The one normalisation every comparison uses: case-insensitive, outer blanks ignored."""
    return text.strip().casefold()


@dataclass(frozen=True)
class LocalizedName:
    zh_CN: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.zh_CN


@dataclass(frozen=True)
class ProcessException:
    """A legitimate program that shares a tool's process name, e.g. WSLg's msrdc.exe.

    All given conditions must hold: the executable lies under one of *exe_prefixes*, its
    parent is one of *parents*, and its verified signer is one of *signers*.
    """

    exe_prefixes: tuple[str, ...] = ()
    parents: frozenset[str] = frozenset()
    signers: frozenset[str] = frozenset()
    comment: str = ""

    def excuses(self, *, exe: str, parent: str, signer: str) -> bool:
        path = norm(exe).replace("/", "\\")
        return (
            (not self.exe_prefixes or any(path.startswith(p) for p in self.exe_prefixes))
            and (not self.parents or norm(parent) in self.parents)
            and (not self.signers or norm(signer) in self.signers)
        )


@dataclass(frozen=True)
class ToolRule:
    id: str
    name: LocalizedName
    category: Category
    severity: Severity
    processes: tuple[str, ...]  # normalised names or globs ("winvnc*.exe")
    services: tuple[str, ...]  # normalised service names
    exceptions: tuple[ProcessException, ...] = ()

    def excused(self, *, exe: str, parent: str, signer: str) -> bool:
        return any(e.excuses(exe=exe, parent=parent, signer=signer) for e in self.exceptions)


@dataclass(frozen=True)
class VmSignalRule:
    id: str
    family: str
    source: str  # cpu_vendor, cpu_brand, hypervisor_present, smbios, pci_vendor, pnp_id,
    #             driver, process, service, mac
    weight: int
    strong: bool
    equals: frozenset[str] = frozenset()
    contains: tuple[str, ...] = ()
    prefix: tuple[str, ...] = ()
    except_contains: tuple[str, ...] = ()
    smbios_fields: tuple[tuple[str, str], ...] = ()  # (field, substring), all must hold
    not_on_root_partition: bool = False  # Hyper-V evidence means nothing on a root partition
    # Evidence no Hyper-V HOST has (SMBIOS "Virtual Machine", VMBus children, synthetic
    # devices): seen together with the root-partition bit, the bit is not believed.
    guest_only: bool = False
    weight_if_root_unknown: int | None = None  # weaker when the root bit is unreadable
    strong_if_root_unknown: bool | None = None


@dataclass(frozen=True)
class VmRules:
    threshold: int
    families: Mapping[str, LocalizedName]
    signals: tuple[VmSignalRule, ...]
    root_contradiction_weight: int = 30  # added when guest-only evidence meets the root bit


@dataclass(frozen=True)
class AudioRules:
    """Virtual audio devices (VB-Audio Virtual Cable, VoiceMeeter...): driver base names
    and PnP id fragments, both normalised."""

    severity: Severity = "warn"
    driver_prefixes: tuple[str, ...] = ()
    pnp_contains: tuple[str, ...] = ()
    names: Mapping[str, LocalizedName] = field(default_factory=dict)  # fragment -> name


@dataclass(frozen=True)
class SandboxRule:
    id: str
    name: LocalizedName
    modules: frozenset[str]
    usernames: frozenset[str]


@dataclass(frozen=True)
class CameraRules:
    names: tuple[str, ...]  # normalised substrings of known virtual camera names
    software_path_prefixes: tuple[str, ...]


@dataclass(frozen=True)
class DisplayRules:
    max_displays: int
    root_prefix: str
    root_allowed: frozenset[str]  # normalised adapter ids that are real (basic display)
    names: tuple[str, ...]  # normalised substrings of virtual display adapter names


@dataclass(frozen=True)
class AllowEntry:
    """A lab-approved process (all three must match) or a machine exempt from some checks."""

    name: str = ""
    original_filename: str = ""
    signer: str = ""
    machine_id: str = ""
    checks: frozenset[str] = frozenset()  # machine entries: exempt checks (empty = all)
    comment: str = ""
    # Optional: the approved copy's folder(s), e.g. "C:\\Program Files\\TeamViewer\\".
    # Name, OriginalFilename and signer are the same for a candidate's own portable copy of
    # the approved tool (TeamViewer QuickSupport from a USB stick); only the folder, which a
    # standard user cannot write to, tells the centre's installation apart.
    exe_prefixes: tuple[str, ...] = ()

    def allows_process(self, *, name: str, original_filename: str, signer: str,
                       exe: str = "") -> bool:
        path = norm(exe).replace("/", "\\")
        return bool(self.name) and (
            self.name == norm(name)
            and self.original_filename == norm(original_filename)
            and self.signer == norm(signer)
            # An unreadable path proves nothing: not allowed when a folder is required.
            and (not self.exe_prefixes
                 or (bool(path) and any(path.startswith(p) for p in self.exe_prefixes)))
        )

    def exempts_machine(self, machine_id: str, check: str) -> bool:
        return (
            bool(self.machine_id)
            and self.machine_id == norm(machine_id)
            and (not self.checks or check in self.checks)
        )


@dataclass(frozen=True)
class Rules:
    version: int
    issued_at: datetime
    expires_at: datetime
    enabled_checks: frozenset[str]
    tools: tuple[ToolRule, ...]
    vm: VmRules
    sandboxes: tuple[SandboxRule, ...]
    cameras: CameraRules
    displays: DisplayRules
    allow: tuple[AllowEntry, ...] = ()
    source: str = "builtin"  # "builtin" or "server"; for logs and the verdict line
    audio: AudioRules = field(default_factory=AudioRules)
    # Per-centre decisions by tool category; "lab_management" is the one that exists now.
    policies: Mapping[str, Policy] = field(default_factory=dict)
    _by_process: Mapping[str, ToolRule] = field(default_factory=dict, repr=False)
    _process_globs: tuple[tuple[re.Pattern[str], ToolRule], ...] = field(default=(), repr=False)
    _by_service: Mapping[str, ToolRule] = field(default_factory=dict, repr=False)

    def enabled(self, check: str) -> bool:
        return check in self.enabled_checks

    def tool_for_process_name(self, name: str) -> ToolRule | None:
        """The tool whose process list names *name* (exact or glob), case-insensitively."""
        key = norm(name)
        if not key:
            return None
        tool = self._by_process.get(key)
        if tool is not None:
            return tool
        for pattern, candidate in self._process_globs:
            if pattern.fullmatch(key):
                return candidate
        return None

    def tool_for_service(self, service_name: str) -> ToolRule | None:
        return self._by_service.get(norm(service_name))

    def policy(self, category: str) -> Policy | None:
        """The centre's decision for a tool category, None where the tool's own severity
        applies (remote control and screen capture have no centre policy)."""
        return self.policies.get(category)

    def wants_signer(self, *, name: str, original_filename: str) -> bool:
        """Whether a collector should spend a signature check on this process.

        Only a finding's evidence and allow entries use the signer, and verifying a
        signature hashes the whole file, so collectors ask first.
        """
        if self.tool_for_process_name(name) or self.tool_for_process_name(original_filename):
            return True
        keys = {norm(name), norm(original_filename)}
        return any(entry.name in keys for entry in self.allow if entry.name)

    def process_allowed(self, *, name: str, original_filename: str, signer: str,
                        exe: str = "") -> bool:
        return any(
            entry.allows_process(name=name, original_filename=original_filename, signer=signer,
                                 exe=exe)
            for entry in self.allow
        )

    def machine_exempt(self, machine_id: str, check: str) -> bool:
        return bool(machine_id) and any(e.exempts_machine(machine_id, check) for e in self.allow)

    def with_allow(self, entries: Iterable[AllowEntry]) -> Rules:
        """Rules with extra allow entries (centre-local approvals); entries are normalised."""
        return replace(self, allow=self.allow + tuple(_normalise_allow(e) for e in entries))


# ---------------------------------------------------------------------------- parsing


def parse_rules(document: Mapping[str, Any], *, source: str = "builtin") -> Rules:
    """Validate a decoded rules document and build the normalised, indexed Rules."""
    try:
        return _parse(document, source=source)
    except (KeyError, TypeError, ValueError) as exc:
        raise RulesError(
            "integrity.rules_malformed",
            _("检测规则文件格式错误，继续使用内置规则"),
            reason=f"{type(exc).__name__}: {exc}",
        ) from exc


def _parse(doc: Mapping[str, Any], *, source: str) -> Rules:
    if int(doc["format"]) != RULES_FORMAT:
        raise ValueError(f"unsupported rules format {doc['format']!r}")
    checks = doc.get("checks", {})
    if not isinstance(checks, Mapping):
        raise TypeError("checks must be an object")
    # A check missing from the file is on: kill switches are explicit "false" entries.
    enabled = frozenset(c for c in CHECK_IDS if bool(checks.get(c, True)))
    tools = tuple(_tool(t) for t in doc["tools"])
    by_process: dict[str, ToolRule] = {}
    globs: list[tuple[re.Pattern[str], ToolRule]] = []
    by_service: dict[str, ToolRule] = {}
    for tool in tools:
        for pattern in tool.processes:
            if "*" in pattern or "?" in pattern:
                globs.append((_glob(pattern), tool))
            elif by_process.setdefault(pattern, tool) is not tool:
                raise ValueError(f"process {pattern!r} listed by two tools")
        for service in tool.services:
            by_service.setdefault(service, tool)
    vm = doc["vm"]
    families = {str(k): _name(v) for k, v in vm["families"].items()}
    signals = tuple(_vm_signal(s) for s in vm["signals"])
    policies: dict[str, Policy] = {}
    for category, value in dict(doc.get("policies", {})).items():
        if category != "lab_management":
            raise ValueError(f"policy for unknown category {category!r}")
        if value not in ("block", "warn", "allow"):
            raise ValueError(f"policy {category!r}: unknown value {value!r}")
        policies[category] = value
    if any(t.category == "lab_management" for t in tools) and "lab_management" not in policies:
        raise ValueError("rules list lab_management tools but no policies.lab_management")
    for signal in signals:
        if signal.family not in families:
            raise ValueError(f"vm signal {signal.id!r}: unknown family {signal.family!r}")
    cameras = doc["virtual_cameras"]
    displays = doc["displays"]
    return Rules(
        version=int(doc["version"]),
        issued_at=_time(doc["issued_at"]),
        expires_at=_time(doc["expires_at"]),
        enabled_checks=enabled,
        tools=tools,
        vm=VmRules(threshold=int(vm["threshold"]), families=families, signals=signals,
                   root_contradiction_weight=int(vm.get("root_contradiction_weight", 30))),
        sandboxes=tuple(
            SandboxRule(
                id=str(s["id"]),
                name=_name(s["name"]),
                modules=frozenset(norm(m) for m in s.get("modules", ())),
                usernames=frozenset(norm(u) for u in s.get("usernames", ())),
            )
            for s in doc["sandboxes"]
        ),
        cameras=CameraRules(
            names=_norm_all(cameras["names"]),
            software_path_prefixes=_norm_all(cameras["software_path_prefixes"]),
        ),
        displays=DisplayRules(
            max_displays=int(displays["max_displays"]),
            root_prefix=norm(displays["root_prefix"]),
            root_allowed=frozenset(_norm_all(displays["root_allowed"])),
            names=_norm_all(displays["virtual_names"]),
        ),
        allow=tuple(_allow(a) for a in doc.get("allow", ())),
        source=source,
        audio=_audio(doc.get("virtual_audio", {})),
        policies=policies,
        _by_process=by_process,
        _process_globs=tuple(globs),
        _by_service=by_service,
    )


def _name(value: Mapping[str, Any]) -> LocalizedName:
    return LocalizedName(zh_CN=str(value["zh_CN"]), en=str(value["en"]))


def _norm_all(values: Iterable[Any]) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError("expected a list of strings, got a string")
    return tuple(norm(str(v)) for v in values)


def _glob(pattern: str) -> re.Pattern[str]:
    # Only * and ? are special; every other character is literal (names contain dots).
    body = "".join(
        ".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern
    )
    return re.compile(body)


def _tool(t: Mapping[str, Any]) -> ToolRule:
    category = str(t.get("category", "remote_control"))
    if category not in ("remote_control", "screen_capture", "lab_management"):
        raise ValueError(f"tool {t.get('id')!r}: unknown category {category!r}")
    severity = _severity(t.get("severity", "block"))
    processes = _norm_all(t.get("processes", ()))
    if not processes and not t.get("services"):
        raise ValueError(f"tool {t.get('id')!r} names no process and no service")
    return ToolRule(
        id=str(t["id"]),
        name=_name(t["name"]),
        category=category,  # type: ignore[arg-type]  # checked just above
        severity=severity,
        processes=processes,
        services=_norm_all(t.get("services", ())),
        exceptions=tuple(_exception(e) for e in t.get("except", ())),
    )


def _exception(e: Mapping[str, Any]) -> ProcessException:
    found = ProcessException(
        exe_prefixes=tuple(p.replace("/", "\\") for p in _norm_all(e.get("exe_prefixes", ()))),
        parents=frozenset(_norm_all(e.get("parents", ()))),
        signers=frozenset(_norm_all(e.get("signers", ()))),
        comment=str(e.get("comment", "")),
    )
    if not (found.exe_prefixes and found.parents):
        # A name-only excuse would let a renamed tool through; path AND parent, at least.
        raise ValueError("a process exception needs exe_prefixes and parents")
    return found


def _audio(a: Mapping[str, Any]) -> AudioRules:
    return AudioRules(
        severity=_severity(a.get("severity", "warn")),
        driver_prefixes=_norm_all(a.get("driver_prefixes", ())),
        pnp_contains=_norm_all(a.get("pnp_contains", ())),
        names={norm(k): _name(v) for k, v in dict(a.get("names", {})).items()},
    )


def _severity(value: Any) -> Severity:
    if value == "block":
        return "block"
    if value == "warn":
        return "warn"
    raise ValueError(f"unknown severity {value!r}")


_VM_SOURCES = frozenset(
    {"cpu_vendor", "cpu_brand", "hypervisor_present", "smbios", "pci_vendor", "pnp_id",
     "driver", "process", "service", "mac"}
)


def _vm_signal(s: Mapping[str, Any]) -> VmSignalRule:
    source = str(s["source"])
    if source not in _VM_SOURCES:
        raise ValueError(f"vm signal {s.get('id')!r}: unknown source {source!r}")
    fields_ = s.get("fields", {})
    root_unknown = s.get("if_root_partition_unknown")
    return VmSignalRule(
        id=str(s["id"]),
        family=str(s["family"]),
        source=source,
        weight=int(s["weight"]),
        strong=bool(s.get("strong", False)),
        equals=frozenset(_norm_mac_or_text(source, v) for v in s.get("equals", ())),
        contains=_norm_all(s.get("contains", ())),
        prefix=tuple(_norm_mac_or_text(source, v) for v in s.get("prefix", ())),
        except_contains=_norm_all(s.get("except_contains", ())),
        smbios_fields=tuple((str(k), norm(str(v))) for k, v in fields_.items()),
        not_on_root_partition=bool(s.get("not_on_root_partition", False)),
        guest_only=bool(s.get("guest_only", False)),
        weight_if_root_unknown=(
            int(root_unknown["weight"]) if root_unknown is not None else None
        ),
        strong_if_root_unknown=(
            bool(root_unknown["strong"]) if root_unknown is not None else None
        ),
    )


def normalise_mac(mac: str) -> str:
    """'00-0C-29-AB-CD-EF' / '000c29abcdef' -> '00:0c:29:ab:cd:ef' (prefixes too)."""
    digits = re.sub(r"[^0-9a-fA-F]", "", mac).lower()
    return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def _norm_mac_or_text(source: str, value: Any) -> str:
    return normalise_mac(str(value)) if source == "mac" else norm(str(value))


def _allow(a: Mapping[str, Any]) -> AllowEntry:
    entry = AllowEntry(
        name=str(a.get("name", "")),
        original_filename=str(a.get("original_filename", "")),
        signer=str(a.get("signer", "")),
        machine_id=str(a.get("machine_id", "")),
        checks=frozenset(str(c) for c in a.get("checks", ())),
        comment=str(a.get("comment", "")),
        exe_prefixes=tuple(str(p) for p in a.get("exe_prefixes", ())),
    )
    return _normalise_allow(entry)


def _normalise_allow(entry: AllowEntry) -> AllowEntry:
    normalised = AllowEntry(
        name=norm(entry.name),
        original_filename=norm(entry.original_filename),
        signer=norm(entry.signer),
        machine_id=norm(entry.machine_id),
        checks=frozenset(entry.checks),
        comment=entry.comment,
        exe_prefixes=tuple(norm(p).replace("/", "\\") for p in entry.exe_prefixes if p),
    )
    process_fields = (normalised.name, normalised.original_filename, normalised.signer)
    if normalised.machine_id:
        if any(process_fields) or normalised.exe_prefixes:
            raise ValueError("an allow entry is either a machine id or a process, not both")
        unknown = normalised.checks - set(CHECK_IDS)
        if unknown:
            raise ValueError(f"allow entry names unknown checks {sorted(unknown)}")
    elif not all(process_fields):
        # Name alone would let any renamed binary through; signer alone would allow all
        # of Google's or Tencent's software. All three, or nothing.
        raise ValueError("a process allow entry needs name, original_filename and signer")
    return normalised


def _time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"time {value!r} has no time zone")
    return parsed.astimezone(UTC)


# ---------------------------------------------------------------------------- signing


def vendor_public_key() -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(VENDOR_RULES_PUBLIC_KEY_B64))


def sign_rules(data: bytes, *, key: Ed25519PrivateKey) -> bytes:
    """Signature file content for *data*: base64 of the Ed25519 signature, one line."""
    return base64.b64encode(key.sign(SIGNATURE_CONTEXT + data)) + b"\n"


def verify_rules(
    data: bytes,
    signature: bytes | None,
    *,
    trusted_keys: Sequence[Ed25519PublicKey],
    now: datetime,
    source: str,
    enforce_expiry: bool = True,
) -> Rules:
    """Check the signature FIRST, then parse, then check expiry. Raises RulesError."""
    if not signature or not signature.strip():
        raise RulesError(
            "integrity.rules_unsigned", _("检测规则文件没有签名，继续使用内置规则"), source=source
        )
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not _signed_by_any(raw, data, trusted_keys):
        raise RulesError(
            "integrity.rules_signature_invalid",
            _("检测规则文件签名无效，继续使用内置规则"),
            source=source,
        )
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RulesError(
            "integrity.rules_malformed",
            _("检测规则文件格式错误，继续使用内置规则"),
            reason=str(exc),
        ) from exc
    if not isinstance(document, Mapping):
        raise RulesError(
            "integrity.rules_malformed",
            _("检测规则文件格式错误，继续使用内置规则"),
            reason="top level is not an object",
        )
    rules = parse_rules(document, source=source)
    if enforce_expiry and now >= rules.expires_at:
        raise RulesError(
            "integrity.rules_expired",
            _("检测规则文件已过期，继续使用内置规则"),
            version=rules.version,
            expires_at=rules.expires_at.isoformat(),
        )
    return rules


def _signed_by_any(raw: bytes, data: bytes, keys: Sequence[Ed25519PublicKey]) -> bool:
    if len(raw) != 64:
        return False
    for key in keys:
        try:
            key.verify(raw, SIGNATURE_CONTEXT + data)
        except InvalidSignature:
            continue
        return True
    return False


@functools.cache
def builtin_rules() -> Rules:
    """The rules shipped with this build, verified against the vendor key.

    Expiry is not enforced here: the built-in rules are the floor that a refused update
    falls back to, and refusing them too would leave no detection at all.
    """
    folder = resource_path("integrity")
    data = (folder / "rules.json").read_bytes()
    signature = (folder / "rules.json.sig").read_bytes()
    return verify_rules(
        data,
        signature,
        trusted_keys=(vendor_public_key(),),
        now=datetime.now(UTC),
        source="builtin",
        enforce_expiry=False,
    )


@dataclass(frozen=True)
class RulesChoice:
    rules: Rules
    refused: RulesError | None  # why the offered update was not used, if it was not


def choose_rules(
    *,
    update: tuple[bytes, bytes | None] | None,
    server_key: Ed25519PublicKey | None,
    now: datetime,
    builtin: Rules | None = None,
) -> RulesChoice:
    """The rules to use: a valid, newer update (server-shipped) or else the built-in ones.

    *update* is (rules bytes, signature bytes); *now* should be the server clock estimate
    when known (the PC clock can be off by days in labs).
    """
    base = builtin if builtin is not None else builtin_rules()
    if update is None:
        return RulesChoice(base, None)
    keys: list[Ed25519PublicKey] = [vendor_public_key()]
    if server_key is not None:
        keys.append(server_key)
    data, signature = update
    try:
        offered = verify_rules(data, signature, trusted_keys=keys, now=now, source="server")
    except RulesError as exc:
        return RulesChoice(base, exc)
    if offered.version < base.version:
        # An old (validly signed) list would silently drop tools added since: refuse it.
        return RulesChoice(
            base,
            RulesError(
                "integrity.rules_older",
                _("收到的检测规则比内置规则旧，继续使用内置规则"),
                offered=offered.version,
                builtin=base.version,
            ),
        )
    return RulesChoice(offered, None)
