"""The invigilation console (考场监控台): a live room view and the staff's actions."""

from server.console import materials_web
from server.console.web import router

router.include_router(materials_web.router)

__all__ = ["router"]
