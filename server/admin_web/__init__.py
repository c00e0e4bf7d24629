"""The admin web area (/admin): admin login, the offline answer file upload page and the
review page (identity checks, proctoring events, integrity findings).

Server-rendered HTML from small string templates (every value escaped), no JavaScript.
``router`` is included by server/app.py.
"""

from fastapi import APIRouter

from server.admin_web.materials_routes import router as _materials_router
from server.admin_web.photo_pages import router as _photos_router
from server.admin_web.review_routes import router as _review_router
from server.admin_web.routes import router as _pages_router
from server.admin_web.seats import router as _seats_router

router = APIRouter()
router.include_router(_pages_router)
router.include_router(_review_router)
router.include_router(_seats_router)
router.include_router(_materials_router)
router.include_router(_photos_router)

__all__ = ["router"]
