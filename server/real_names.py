"""Staff by real name (issue 22): the one check for the name an admin or a console
account is registered with.

What staff submit (emergency materials) and do (the console's audit trail) is signed with
this name, so it must be a person's name: not empty (the console once fell back to the
login name), short enough for a watermark line and a table cell, and plain text (no
control or bidi characters that could reorder a signature on a page or in a CSV).
"""

from __future__ import annotations

import unicodedata

from client.errors import UserFacingError
from client.i18n import _

MAX_REAL_NAME = 100  # the columns' width (admins.real_name, console_accounts.display_name)


def check_real_name(value: str | None) -> str:
    """The name stripped, or UserFacingError (staff.real_name_required / bad_real_name)."""
    name = (value or "").strip()
    if not name:
        raise UserFacingError("staff.real_name_required", _(
            "请登记本人的真实姓名：应急材料和操作记录都以真实姓名署名"))
    # Cc: control characters; Cf: format characters (bidi overrides, zero-width).
    if len(name) > MAX_REAL_NAME or any(unicodedata.category(ch) in ("Cc", "Cf")
                                        for ch in name):
        raise UserFacingError("staff.bad_real_name", _(
            "真实姓名不能超过 {n} 个字符，也不能含控制字符").format(n=MAX_REAL_NAME),
            name=name[:MAX_REAL_NAME])
    return name
