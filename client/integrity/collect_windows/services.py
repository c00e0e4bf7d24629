"""Installed Windows services with state and binary path (psutil, i.e. the SCM API)."""

from __future__ import annotations

import sys

import psutil

from client.integrity.snapshot import ServiceInfo


def read_services() -> tuple[tuple[ServiceInfo, ...], dict[int, ServiceInfo]]:
    """All services, and the running ones by pid (to name service processes)."""
    if sys.platform == "win32":
        services: list[ServiceInfo] = []
        by_pid: dict[int, ServiceInfo] = {}
        for svc in psutil.win_service_iter():
            try:
                name, display = svc.name(), svc.display_name()
                state = svc.status()
                binary = svc.binpath()
                pid = svc.pid() if state == "running" else None
            except (psutil.Error, OSError):
                continue  # removed while listing, or not readable: skip this one only
            info = ServiceInfo(name=name, display_name=display, state=state, binary_path=binary)
            services.append(info)
            if pid:
                by_pid[pid] = info
        return tuple(services), by_pid
    raise OSError("Windows services exist on Windows only")
