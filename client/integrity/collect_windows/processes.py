"""Processes with executable path, PE OriginalFilename and (where it matters) verified signer.

The OriginalFilename is read from the file for every new pid, never from a cache: a cache
keyed by (path, size, mtime) can be poisoned without admin rights (run a harmless program
padded to a tool's size, then overwrite it in place with the renamed tool and set the
same mtime: the tool would inherit the harmless name). Reading the version resource maps
only the file's resources and costs well under a millisecond. Signatures (a hash of the
whole file) stay cached by (path, size, mtime); they are read only for processes a rule
names, and decide only allow entries and exceptions, which also need a folder a standard
user cannot write to (docs/integrity.md, Known gaps).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import psutil

from client.integrity.collect_windows.authenticode import verified_signer
from client.integrity.collect_windows.pe_version import original_filename
from client.integrity.imagepath import executable_path
from client.integrity.rules import Rules
from client.integrity.snapshot import ProcessInfo, ServiceInfo

log = logging.getLogger(__name__)


class ProcessReader:
    def __init__(self, *, rules: Rules) -> None:
        self._rules = rules
        self._signer: dict[tuple[str, int, int], str] = {}
        self.services_by_pid: Mapping[int, ServiceInfo] = {}

    def set_rules(self, rules: Rules) -> None:
        self._rules = rules
        self._signer.clear()  # a server-shipped tool's signer was perhaps never read

    def quick(self, pid: int) -> ProcessInfo | None:
        """Name, path and service only: what the OS and the SCM say, no file is opened
        (used when the image file cannot be read in time, client/integrity/pid_reads.py)."""
        opened = _open(pid)
        if opened is None:
            return None
        proc, name = opened
        exe, service = self._path_and_service(proc, pid)
        return ProcessInfo(pid=pid, name=name, exe=exe,
                           service=service.name if service else "")

    def _path_and_service(self, proc: psutil.Process, pid: int
                          ) -> tuple[str, ServiceInfo | None]:
        try:
            exe = proc.exe()  # QueryFullProcessImageName: asks the kernel, not the file
        except psutil.Error:
            exe = ""  # SYSTEM processes as a standard user: see the service path below
        service = self.services_by_pid.get(pid)
        if service is not None and not exe:
            # The SCM tells anyone where a service's binary is; reading the FILE needs no
            # access to the process, so renamed tools running as SYSTEM are still caught.
            exe = executable_path(service.binary_path)
        return exe, service

    def inspect(self, pid: int) -> ProcessInfo | None:
        opened = _open(pid)
        if opened is None:
            return None
        proc, name = opened
        exe, service = self._path_and_service(proc, pid)
        original = self._original_filename(exe) if exe else ""
        signer = parent = ""
        system = False
        if self._rules.wants_signer(name=name, original_filename=original):
            # Only for processes a rule names: the parent decides exceptions (WSLg's
            # msrdc.exe under wslhost.exe), the session what the candidate is told.
            signer = self._signer_of(exe) if exe else ""
            parent = _parent_name(proc)
            try:
                system = in_service_session(pid)
            except OSError:
                system = False  # unknown: the message then says "please exit"
        return ProcessInfo(pid=pid, name=name, exe=exe, original_filename=original,
                           signer=signer, service=service.name if service else "",
                           parent=parent, system=system)

    def _file_key(self, path: str) -> tuple[str, int, int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (os.path.normcase(path), st.st_size, st.st_mtime_ns)

    def _original_filename(self, path: str) -> str:
        try:
            return original_filename(path)
        except OSError as exc:
            log.debug("no version resource for %s: %s", path, exc)
            return ""

    def _signer_of(self, path: str) -> str:
        key = self._file_key(path)
        if key is None:
            return ""
        if key not in self._signer:
            try:
                self._signer[key] = verified_signer(path)
            except OSError as exc:
                log.debug("signature of %s unreadable: %s", path, exc)
                self._signer[key] = ""
        return self._signer[key]


def _parent_name(proc: psutil.Process) -> str:
    try:
        parent = proc.parent()
        return parent.name() if parent is not None else ""
    except psutil.Error:
        return ""


def in_service_session(pid: int) -> bool:
    """Session 0 (services, SYSTEM): a standard user cannot end it. Needs no handle to the
    process, so it works for protected processes too."""
    import sys

    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        kernel32.ProcessIdToSessionId.argtypes = [wintypes.DWORD, ctypes.POINTER(wintypes.DWORD)]
        kernel32.ProcessIdToSessionId.restype = wintypes.BOOL
        session = wintypes.DWORD()
        if not kernel32.ProcessIdToSessionId(pid, ctypes.byref(session)):
            return False  # gone, or not ours to ask: treat as the candidate's own
        return session.value == 0
    raise OSError("Windows only")


def sandbox_modules_loaded(names: tuple[str, ...]) -> tuple[str, ...]:
    """Which of *names* are loaded in THIS process (Sandboxie injects SbieDll.dll)."""
    import sys

    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        kernel32.GetModuleHandleW.argtypes = [wintypes.LPCWSTR]
        kernel32.GetModuleHandleW.restype = wintypes.HMODULE
        return tuple(n for n in names if kernel32.GetModuleHandleW(n))
    raise OSError("Windows only")


def _open(pid: int) -> tuple[psutil.Process, str] | None:
    """The process and its name, or None when it is gone or not ours to see."""
    try:
        proc = psutil.Process(pid)
        return proc, proc.name()
    except psutil.Error:
        return None
