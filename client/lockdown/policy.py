"""Which keys the exam blocks, per lockdown profile, and which desktop policies it sets.

Two profiles come from the signed exam package (``header.extra["lockdown"]``):

* ``strict``: every way out of the exam window that a keyboard offers is blocked, and so are
  keystrokes injected by other programs (auto-typers, remote tools).
* ``assistive``: the same escapes are blocked, but injected keys pass (on-screen keyboards
  and screen readers inject them) and the shortcuts of Narrator, the on-screen keyboard,
  Magnifier and the input-method switch keep working.  Safe Exam Browser users could only
  get these in its "disable Explorer shell" mode (SEB #835, #616, #18, #1303).

The keyboard hook calls :meth:`KeyFilter.decide` for every key; it must answer in
microseconds (Windows silently removes a slow low-level hook), so it only looks at a few
integers and a small set of held modifiers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Profile(StrEnum):
    STRICT = "strict"
    ASSISTIVE = "assistive"


LOCKDOWN_EXTRA_KEY = "lockdown"
DEFAULT_PROFILE = Profile.STRICT


def profile_from_extra(extra: Mapping[str, object]) -> Profile:
    """The profile a package asks for; strict when it names none or one we do not know
    (a setting only the signed package may loosen)."""
    value = extra.get(LOCKDOWN_EXTRA_KEY)
    if isinstance(value, Mapping):
        value = value.get("profile")
    try:
        return Profile(str(value)) if value is not None else DEFAULT_PROFILE
    except ValueError:
        return DEFAULT_PROFILE


# Windows virtual-key codes (winuser.h) the rules below name.
VK_TAB = 0x09
VK_RETURN = 0x0D
VK_SHIFT, VK_CONTROL, VK_MENU = 0x10, 0x11, 0x12
VK_ESCAPE = 0x1B
VK_SPACE = 0x20
VK_SNAPSHOT = 0x2C  # PrtSc
VK_DELETE = 0x2E
VK_O = 0x4F
VK_LWIN, VK_RWIN, VK_APPS, VK_SLEEP = 0x5B, 0x5C, 0x5D, 0x5F
VK_ADD, VK_SUBTRACT = 0x6B, 0x6D
VK_F4 = 0x73
VK_LSHIFT, VK_RSHIFT, VK_LCONTROL, VK_RCONTROL, VK_LMENU, VK_RMENU = range(0xA0, 0xA6)
VK_OEM_PLUS, VK_OEM_MINUS = 0xBB, 0xBD
# Browser, mail, media-select and "launch app" keys open other programs. Volume keys stay
# usable (listening items need them).
LAUNCH_KEYS = frozenset(range(0xA6, 0xAD)) | frozenset(range(0xB4, 0xB8))
# An unassigned key code pressed while Win is held keeps a lone Win press from opening the
# Start menu (the "menu mask key" AutoHotkey uses).
VK_MENU_MASK = 0xE8

_MODIFIERS = {
    VK_SHIFT: "shift", VK_LSHIFT: "shift", VK_RSHIFT: "shift",
    VK_CONTROL: "ctrl", VK_LCONTROL: "ctrl", VK_RCONTROL: "ctrl",
    VK_MENU: "alt", VK_LMENU: "alt", VK_RMENU: "alt",
    VK_LWIN: "win", VK_RWIN: "win",
}

# Win+key shortcuts the assistive profile lets through, by the extra modifiers they need.
_ASSISTIVE_WIN_SHORTCUTS: dict[int, frozenset[str]] = {
    VK_RETURN: frozenset({"ctrl"}),   # Narrator on/off
    VK_O: frozenset({"ctrl"}),        # on-screen keyboard
    VK_SPACE: frozenset(),            # next input method (the approved Chinese IME)
    VK_OEM_PLUS: frozenset(), VK_OEM_MINUS: frozenset(),  # Magnifier zoom
    VK_ADD: frozenset(), VK_SUBTRACT: frozenset(),
    VK_ESCAPE: frozenset(),           # Magnifier off
}


@dataclass(frozen=True)
class KeyDecision:
    block: bool
    reason: str = ""  # why, for the log and the review record ("" when allowed)
    mask_first: bool = False  # send VK_MENU_MASK before this key (a lone Win release)
    detected: str = ""  # something seen but not blockable (Ctrl+Alt+Del)


ALLOW = KeyDecision(block=False)


class KeyFilter:
    """Per-key decisions for one profile; it tracks the modifiers held down itself, since
    a modifier the filter swallowed is not down as far as Windows knows."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._held: set[str] = set()
        self._win_used = False  # another key was pressed while Win was held

    def decide(self, *, vk: int, down: bool, injected: bool, alt_flag: bool = False) -> KeyDecision:
        if vk == VK_MENU_MASK:
            return ALLOW  # our own mask key: Windows must see it to skip the Start menu
        modifier = _MODIFIERS.get(vk)
        if modifier is not None:
            return self._modifier(modifier, vk=vk, down=down, injected=injected)
        if not down:
            return ALLOW  # a release never opens anything; blocking it could stick a key
        held = set(self._held)
        if alt_flag:
            held.add("alt")  # Windows reports Alt on the key itself (LLKHF_ALTDOWN)
        if injected and self.profile is Profile.STRICT:
            return KeyDecision(block=True, reason="injected")
        if "win" in held:
            self._win_used = True
            return self._win_shortcut(vk, held)
        return _blocked_combination(vk, held)

    def _modifier(self, modifier: str, *, vk: int, down: bool, injected: bool) -> KeyDecision:
        if injected and self.profile is Profile.STRICT and down:
            return KeyDecision(block=True, reason="injected")
        if down:
            self._held.add(modifier)
        else:
            self._held.discard(modifier)
        if modifier != "win":
            return ALLOW
        if self.profile is Profile.STRICT:
            return KeyDecision(block=True, reason="win")
        # Assistive: Win goes through so Win+Ctrl+Enter etc. reach Windows, but a lone
        # press must not open the Start menu.
        if down:
            self._win_used = False
            return ALLOW
        lone = not self._win_used
        return KeyDecision(block=False, mask_first=lone, reason="win" if lone else "")

    def _win_shortcut(self, vk: int, held: set[str]) -> KeyDecision:
        if self.profile is Profile.ASSISTIVE:
            extra = _ASSISTIVE_WIN_SHORTCUTS.get(vk)
            if extra is not None and held - {"win", "shift"} == extra:
                return ALLOW
        return KeyDecision(block=True, reason="win+key")


def _blocked_combination(vk: int, held: set[str]) -> KeyDecision:
    alt, ctrl, shift = "alt" in held, "ctrl" in held, "shift" in held
    if vk == VK_SNAPSHOT:
        return KeyDecision(block=True, reason="print_screen")
    if vk in LAUNCH_KEYS or vk == VK_SLEEP:
        return KeyDecision(block=True, reason="launch_key")
    if alt and vk in (VK_TAB, VK_ESCAPE, VK_F4, VK_SPACE):
        return KeyDecision(block=True, reason={VK_TAB: "alt+tab", VK_ESCAPE: "alt+esc",
                                               VK_F4: "alt+f4", VK_SPACE: "alt+space"}[vk])
    if ctrl and vk == VK_ESCAPE:
        return KeyDecision(block=True, reason="ctrl+shift+esc" if shift else "ctrl+esc")
    if ctrl and alt and vk == VK_DELETE:
        # The secure attention sequence never reaches a hook we could block it in; when
        # Windows shows it to us anyway, note it so the record says the candidate tried.
        return KeyDecision(block=False, detected="ctrl+alt+del")
    return ALLOW


@dataclass(frozen=True)
class DesktopPolicy:
    """One per-user registry value the exam sets while it runs (the Ctrl+Alt+Del screen's
    ways out). Each is recorded before it is set and restored on exit or at the next start."""

    key: str  # under HKEY_CURRENT_USER
    name: str
    value: int


_SYSTEM = r"Software\Microsoft\Windows\CurrentVersion\Policies\System"
_EXPLORER = r"Software\Microsoft\Windows\CurrentVersion\Policies\Explorer"

DESKTOP_POLICIES: tuple[DesktopPolicy, ...] = (
    DesktopPolicy(_SYSTEM, "DisableTaskMgr", 1),
    DesktopPolicy(_SYSTEM, "DisableLockWorkstation", 1),
    DesktopPolicy(_SYSTEM, "DisableChangePassword", 1),
    DesktopPolicy(_EXPLORER, "NoLogoff", 1),
    DesktopPolicy(_EXPLORER, "NoClose", 1),
)


@dataclass(frozen=True)
class LockdownPlan:
    """Everything one profile does, as plain data (logged at start and tested).

    The Ctrl+Alt+Del screen loses its exits in both profiles: none of them is an assistive
    tool, and that screen's Ease of Access button is not affected."""

    profile: Profile
    block_injected_keys: bool
    assistive_shortcuts: bool
    clear_clipboard: bool
    policies: tuple[DesktopPolicy, ...]


def plan_for(profile: Profile) -> LockdownPlan:
    return LockdownPlan(profile=profile,
                        block_injected_keys=profile is Profile.STRICT,
                        assistive_shortcuts=profile is Profile.ASSISTIVE,
                        clear_clipboard=True,
                        policies=DESKTOP_POLICIES)
