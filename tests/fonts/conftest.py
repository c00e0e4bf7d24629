import os

# Real Qt widgets, offscreen: the tests run on CI machines without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The no-Qt run (EXAM_BLOCK_QT=1) cannot even import these modules; they are marked "qt".
if os.environ.get("EXAM_BLOCK_QT") == "1":
    collect_ignore = ['test_font_coverage.py']
