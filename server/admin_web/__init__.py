"""The admin web area (/admin): admin login and the offline answer file upload page.

Server-rendered HTML from small string templates (every value escaped), no JavaScript.
``router`` is included by server/app.py.
"""

from server.admin_web.routes import router

__all__ = ["router"]
