"""Which keys each lockdown profile blocks, fed through KeyFilter as the hook feeds it."""

from __future__ import annotations

import pytest

from client.lockdown.policy import (
    VK_ADD,
    VK_DELETE,
    VK_ESCAPE,
    VK_F4,
    VK_LCONTROL,
    VK_LMENU,
    VK_LSHIFT,
    VK_LWIN,
    VK_MENU_MASK,
    VK_O,
    VK_RETURN,
    VK_SNAPSHOT,
    VK_SPACE,
    VK_TAB,
    KeyFilter,
    Profile,
    plan_for,
    profile_from_extra,
)

VK_A, VK_C, VK_D, VK_E, VK_R = 0x41, 0x43, 0x44, 0x45, 0x52
VK_BROWSER_HOME, VK_LAUNCH_MAIL, VK_VOLUME_UP = 0xAC, 0xB4, 0xAF


def press(key_filter: KeyFilter, *keys: int, injected: bool = False) -> bool:
    """Hold *keys* in order, report whether the last key's press was blocked, release all."""
    decisions = [key_filter.decide(vk=vk, down=True, injected=injected) for vk in keys]
    for vk in reversed(keys):
        key_filter.decide(vk=vk, down=False, injected=injected)
    return decisions[-1].block


ESCAPES = {
    "Alt+Tab": (VK_LMENU, VK_TAB),
    "Alt+Shift+Tab": (VK_LMENU, VK_LSHIFT, VK_TAB),
    "Alt+Esc": (VK_LMENU, VK_ESCAPE),
    "Alt+F4": (VK_LMENU, VK_F4),
    "Alt+Space": (VK_LMENU, VK_SPACE),
    "Ctrl+Esc": (VK_LCONTROL, VK_ESCAPE),
    "Ctrl+Shift+Esc": (VK_LCONTROL, VK_LSHIFT, VK_ESCAPE),
    "PrtSc": (VK_SNAPSHOT,),
    "Alt+PrtSc": (VK_LMENU, VK_SNAPSHOT),
    "Win+D": (VK_LWIN, VK_D),
    "Win+E": (VK_LWIN, VK_E),
    "Win+R": (VK_LWIN, VK_R),
    "Win+Tab": (VK_LWIN, VK_TAB),
    "Browser Home": (VK_BROWSER_HOME,),
    "Mail": (VK_LAUNCH_MAIL,),
}


@pytest.mark.parametrize("profile", list(Profile))
@pytest.mark.parametrize("name", list(ESCAPES))
def test_every_escape_is_blocked_in_both_profiles(profile: Profile, name: str) -> None:
    assert press(KeyFilter(profile), *ESCAPES[name]), name


@pytest.mark.parametrize("profile", list(Profile))
def test_typing_editing_and_volume_pass(profile: Profile) -> None:
    key_filter = KeyFilter(profile)
    assert not press(key_filter, VK_A)
    assert not press(key_filter, VK_LSHIFT, VK_A)
    assert not press(key_filter, VK_LCONTROL, VK_C)  # copy inside the exam
    assert not press(key_filter, VK_TAB)  # keyboard-only navigation
    assert not press(key_filter, VK_ESCAPE)  # closes the exam's own dialogs
    assert not press(key_filter, VK_VOLUME_UP)  # listening items
    assert not press(key_filter, VK_LCONTROL, VK_SPACE)  # IME on/off


def test_strict_blocks_the_win_key_itself_and_injected_keys() -> None:
    key_filter = KeyFilter(Profile.STRICT)
    assert key_filter.decide(vk=VK_LWIN, down=True, injected=False).block
    assert key_filter.decide(vk=VK_LWIN, down=False, injected=False).block
    assert press(key_filter, VK_A, injected=True)
    assert press(key_filter, VK_LMENU, injected=True)
    assert not plan_for(Profile.STRICT).assistive_shortcuts
    assert plan_for(Profile.STRICT).block_injected_keys


def test_assistive_keeps_screen_reader_osk_magnifier_and_ime_switch() -> None:
    key_filter = KeyFilter(Profile.ASSISTIVE)
    assert not press(key_filter, VK_A, injected=True)  # on-screen keyboard types
    assert not press(key_filter, VK_LWIN, VK_LCONTROL, VK_RETURN)  # Narrator
    assert not press(key_filter, VK_LWIN, VK_LCONTROL, VK_O)  # on-screen keyboard
    assert not press(key_filter, VK_LWIN, VK_SPACE)  # next input method
    assert not press(key_filter, VK_LWIN, VK_ADD)  # Magnifier
    # ...but not the escapes that share the Win key
    assert press(key_filter, VK_LWIN, VK_D)
    assert press(key_filter, VK_LWIN, VK_LCONTROL, VK_D)  # new virtual desktop
    assert press(key_filter, VK_LMENU, VK_TAB, injected=True)


def test_a_lone_win_press_in_assistive_is_masked_so_start_does_not_open() -> None:
    key_filter = KeyFilter(Profile.ASSISTIVE)
    assert not key_filter.decide(vk=VK_LWIN, down=True, injected=False).block
    release = key_filter.decide(vk=VK_LWIN, down=False, injected=False)
    assert release.mask_first and not release.block
    # Win used in a shortcut: no mask needed (Windows does not open Start then)
    key_filter.decide(vk=VK_LWIN, down=True, injected=False)
    key_filter.decide(vk=VK_SPACE, down=True, injected=False)
    assert not key_filter.decide(vk=VK_LWIN, down=False, injected=False).mask_first
    # the mask key itself (injected by us) always reaches Windows
    key_filter.decide(vk=VK_LWIN, down=True, injected=False)
    assert not key_filter.decide(vk=VK_MENU_MASK, down=True, injected=True).block


def test_modifier_reported_only_by_the_alt_flag_counts() -> None:
    # Alt held since before the hook was installed: Windows still flags the key
    assert KeyFilter(Profile.STRICT).decide(vk=VK_TAB, down=True, injected=False,
                                            alt_flag=True).block


def test_ctrl_alt_del_is_detected_not_blocked() -> None:
    key_filter = KeyFilter(Profile.STRICT)
    key_filter.decide(vk=VK_LCONTROL, down=True, injected=False)
    key_filter.decide(vk=VK_LMENU, down=True, injected=False)
    decision = key_filter.decide(vk=VK_DELETE, down=True, injected=False)
    assert not decision.block and decision.detected == "ctrl+alt+del"


def test_releases_are_never_blocked_so_no_key_sticks() -> None:
    key_filter = KeyFilter(Profile.STRICT)
    key_filter.decide(vk=VK_LMENU, down=True, injected=False)
    assert key_filter.decide(vk=VK_TAB, down=True, injected=False).block
    assert not key_filter.decide(vk=VK_TAB, down=False, injected=False).block
    assert not key_filter.decide(vk=VK_LMENU, down=False, injected=False).block
    assert not key_filter.decide(vk=VK_TAB, down=True, injected=False).block  # Alt is up


def test_profile_comes_from_the_package_and_defaults_to_strict() -> None:
    assert profile_from_extra({}) is Profile.STRICT
    assert profile_from_extra({"lockdown": "assistive"}) is Profile.ASSISTIVE
    assert profile_from_extra({"lockdown": {"profile": "assistive"}}) is Profile.ASSISTIVE
    assert profile_from_extra({"lockdown": "none"}) is Profile.STRICT
    assert profile_from_extra({"lockdown": 3}) is Profile.STRICT


def test_other_win_shortcuts_are_blocked_in_assistive_too() -> None:
    assert press(KeyFilter(Profile.ASSISTIVE), VK_LWIN, VK_A)  # action centre
    assert press(KeyFilter(Profile.ASSISTIVE), VK_LWIN, VK_LMENU, VK_SPACE)  # wrong modifiers
