"""The invigilation console (考场监控台): a live room view and the staff's actions."""

from server.console.web import router

__all__ = ["router"]
