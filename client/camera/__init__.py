"""Camera identity: sources, quality gate, active liveness, 1:1 face match, exam proctoring.

Importing this package is free: it imports neither cv2 nor mediapipe nor numpy. The
heavy stack loads when a submodule that needs it is imported (``client.camera.analyzer``
and the modules that use it), so the client can start without paying for it.

Pipeline (docs/camera.md):
    FrameSource -> FaceAnalyzer (YuNet boxes, FaceLandmarker signals)
      -> quality gate -> liveness state machine -> SFace match against the base photo (底照)
    during the exam: ProctorMonitor -> debounced ProctorEvents -> review rule (待审核)
"""

import os as _os
import sys as _sys

if _sys.platform == "win32":
    # WORKAROUND: OpenCV's Media Foundation backend can take 5-30 s to open some webcams
    # while it sets up hardware transforms; turning them off makes opening take about a
    # second. It must be set before cv2 opens its first camera, and every camera code
    # path imports this package first.
    _os.environ.setdefault("OPENCV_VIDEOIO_MSMF_ENABLE_HW_TRANSFORMS", "0")
