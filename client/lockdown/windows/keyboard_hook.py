"""The low-level keyboard hook (WH_KEYBOARD_LL) on its own thread with its own message loop.

Windows calls the hook on the thread that installed it, through that thread's message
loop, and removes a hook that answers too slowly (LowLevelHooksTimeout, ~300 ms-1 s) without
telling anyone. So the hook lives on a dedicated thread that does nothing else, and the
callback only asks the precomputed KeyFilter (a few integer comparisons) and appends what it
blocked to a deque that the UI drains on its own timer.
"""

from __future__ import annotations

import collections
import logging
import sys
import threading

from client.lockdown.policy import VK_MENU_MASK, KeyDecision, KeyFilter

log = logging.getLogger(__name__)

WH_KEYBOARD_LL = 13
WM_KEYDOWN, WM_KEYUP, WM_SYSKEYDOWN, WM_SYSKEYUP = 0x0100, 0x0101, 0x0104, 0x0105
WM_QUIT = 0x0012
LLKHF_INJECTED, LLKHF_ALTDOWN = 0x10, 0x20
KEYEVENTF_KEYUP = 0x0002


class KeyboardHook:
    def __init__(self, key_filter: KeyFilter) -> None:
        self._filter = key_filter
        self.blocked: collections.deque[tuple[int, KeyDecision]] = collections.deque(maxlen=256)
        self._thread: threading.Thread | None = None
        self._thread_id = 0
        self._ready = threading.Event()
        self.installed = False

    def start(self) -> bool:
        """Install the hook; False where there is none (not Windows, or refused)."""
        if sys.platform != "win32":
            return False
        self._thread = threading.Thread(target=self._run, name="lockdown-keyboard-hook",
                                        daemon=True)
        self._thread.start()
        self._ready.wait(timeout=5)
        return self.installed

    def stop(self) -> None:
        if sys.platform == "win32" and self._thread is not None:
            import ctypes

            ctypes.windll.user32.PostThreadMessageW(self._thread_id, WM_QUIT, 0, 0)
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        if sys.platform != "win32":
            return
        import ctypes
        from ctypes import wintypes

        user32 = ctypes.WinDLL("user32", use_last_error=True)
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)

        class KBDLLHOOKSTRUCT(ctypes.Structure):
            _fields_ = [("vkCode", wintypes.DWORD), ("scanCode", wintypes.DWORD),
                        ("flags", wintypes.DWORD), ("time", wintypes.DWORD),
                        ("dwExtraInfo", ctypes.c_size_t)]

        hook_proc_type = ctypes.WINFUNCTYPE(ctypes.c_ssize_t, ctypes.c_int, wintypes.WPARAM,
                                            wintypes.LPARAM)
        user32.SetWindowsHookExW.argtypes = [ctypes.c_int, hook_proc_type, wintypes.HINSTANCE,
                                             wintypes.DWORD]
        user32.SetWindowsHookExW.restype = wintypes.HHOOK
        user32.CallNextHookEx.argtypes = [wintypes.HHOOK, ctypes.c_int, wintypes.WPARAM,
                                          wintypes.LPARAM]
        user32.CallNextHookEx.restype = ctypes.c_ssize_t
        decide = self._filter.decide
        blocked = self.blocked

        def callback(code: int, wparam: int, lparam: int) -> int:
            if code == 0:  # HC_ACTION
                info = KBDLLHOOKSTRUCT.from_address(lparam)
                decision = decide(vk=info.vkCode, down=wparam in (WM_KEYDOWN, WM_SYSKEYDOWN),
                                  injected=bool(info.flags & LLKHF_INJECTED),
                                  alt_flag=bool(info.flags & LLKHF_ALTDOWN))
                if decision.mask_first:
                    user32.keybd_event(VK_MENU_MASK, 0, 0, 0)
                    user32.keybd_event(VK_MENU_MASK, 0, KEYEVENTF_KEYUP, 0)
                if decision.block:
                    blocked.append((info.vkCode, decision))
                    return 1
                if decision.detected:
                    blocked.append((info.vkCode, decision))
            return int(user32.CallNextHookEx(None, code, wparam, lparam))

        proc = hook_proc_type(callback)  # kept referenced for the life of the hook
        self._thread_id = kernel32.GetCurrentThreadId()
        hook = user32.SetWindowsHookExW(WH_KEYBOARD_LL, proc, kernel32.GetModuleHandleW(None), 0)
        self.installed = bool(hook)
        if not hook:
            log.error("keyboard hook refused: error %s", ctypes.get_last_error())
        self._ready.set()
        if not hook:
            return
        message = wintypes.MSG()
        while user32.GetMessageW(ctypes.byref(message), None, 0, 0) > 0:
            user32.TranslateMessage(ctypes.byref(message))
            user32.DispatchMessageW(ctypes.byref(message))
        user32.UnhookWindowsHookEx(hook)
        self.installed = False
