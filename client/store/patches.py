"""Long answers stored as a patch against the question's previous revision (schema 3).

An essay of 3,000 characters saved once a second would otherwise write its whole text
(about 9 KB of UTF-8) at every save: five or six encrypted pages per commit instead of
three, and a store (and backup snapshot) that grows by some 30 MB an hour. Typing changes
one place at a time, so a revision is stored as "the previous revision's text, keeping its
first ``keep_start`` and last ``keep_end`` characters, with ``insert`` in between".

Patches apply to the *encoded* JSON text of a value (client/store/model.py), so they work
for any answer type; only long values are worth it. Every ``KEYFRAME_EVERY``-th revision
of a chain is stored whole, so reading a revision applies at most ``KEYFRAME_EVERY - 1``
patches, and a damaged page costs at most the rest of one chain (salvage.py).

A common prefix/suffix patch is a deliberate choice over a general diff (difflib): it is
computed in microseconds, fits how a candidate types between two saves, and when two
distant places changed it is merely larger, never wrong (then the whole value is stored).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# Values shorter than this are stored whole: a patch would save a few bytes at best.
MIN_PATCHED_CHARS = 512
# A patch must be at most this fraction of the whole value, or the whole value is stored.
MAX_PATCH_FRACTION = 0.25
# A chain is one whole value followed by at most KEYFRAME_EVERY - 1 patches.
KEYFRAME_EVERY = 32
# Stored patches start with this, so that they are never valid answer JSON: a reader that
# misses ``patch_of`` (a damaged schema page) fails on a patch instead of taking it for
# the answer.
PREFIX = "patch:"


@dataclass(frozen=True)
class TextPatch:
    keep_start: int
    keep_end: int
    insert: str


def diff(old: str, new: str) -> TextPatch:
    """The smallest single-place patch that turns *old* into *new*."""
    start = _common_prefix_length(old, new)
    end = _common_suffix_length(old, new, limit=min(len(old), len(new)) - start)
    return TextPatch(keep_start=start, keep_end=end, insert=new[start:len(new) - end])


def apply(base: str, patch: TextPatch) -> str:
    """*base* with *patch* applied; ValueError when the patch cannot belong to *base*."""
    if (
        patch.keep_start < 0
        or patch.keep_end < 0
        or patch.keep_start + patch.keep_end > len(base)
    ):
        raise ValueError(f"patch {patch.keep_start}+{patch.keep_end} does not fit a base "
                         f"of {len(base)} characters")
    return base[:patch.keep_start] + patch.insert + base[len(base) - patch.keep_end:]


def apply_stored(base: str, stored: str) -> str:
    """*base* with the stored (encoded) patch *stored* applied; ValueError if it does not fit."""
    return apply(base, decode(stored))


def encode(patch: TextPatch) -> str:
    return PREFIX + json.dumps([patch.keep_start, patch.keep_end, patch.insert],
                               ensure_ascii=False, separators=(",", ":"))


def decode(text: str) -> TextPatch:
    """Parse a stored patch; ValueError for anything that is not one."""
    if not text.startswith(PREFIX):
        raise ValueError("not a stored patch")
    parsed = json.loads(text[len(PREFIX):])
    if (
        not isinstance(parsed, list)
        or len(parsed) != 3
        or not all(type(n) is int for n in parsed[:2])
        or not isinstance(parsed[2], str)
    ):
        raise ValueError("not a stored patch")
    return TextPatch(keep_start=parsed[0], keep_end=parsed[1], insert=parsed[2])


def storage_form(*, previous: str | None, new: str, chain_depth: int) -> tuple[str, bool]:
    """What to store for *new*: (encoded patch, True) or (new itself, False).

    *previous* is the text of the question's latest stored revision (None: there is
    none) and *chain_depth* how many patches led to it (0: it is stored whole).
    """
    if (
        previous is None
        or len(new) < MIN_PATCHED_CHARS
        or chain_depth + 1 >= KEYFRAME_EVERY
    ):
        return new, False
    patch_text = encode(diff(previous, new))
    if len(patch_text) > MAX_PATCH_FRACTION * len(new):
        return new, False
    return patch_text, True


def _common_prefix_length(a: str, b: str) -> int:
    # Binary search that compares only the not-yet-confirmed slice each step, so the
    # total work stays linear and runs in C (str comparison), not in a Python loop.
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix_length(a: str, b: str, *, limit: int) -> int:
    low, high = 0, max(limit, 0)
    end_a, end_b = len(a), len(b)
    while low < high:
        middle = (low + high + 1) // 2
        if a[end_a - middle:end_a - low] == b[end_b - middle:end_b - low]:
            low = middle
        else:
            high = middle - 1
    return low
