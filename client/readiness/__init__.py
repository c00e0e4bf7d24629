"""考前检查 / readiness check: is this lab PC ready for the exam?

Qt-free checks, each a plain function returning a ``CheckResult`` (pass / warn / fail, a
translated message, JSON-able facts): operating system, memory, free disk and the answer
data folder, screen, graphics, camera, server reachable, TLS, PC clock, center IP
registered, remote-control/virtual-device findings. ``run_readiness`` is
``exam-client check``; client/ui/readiness_screen.py shows the same lines on screen.
"""

from client.readiness.result import CheckResult, Status, worst
from client.readiness.runner import ReadinessContext, collect_results, run_readiness

__all__ = ["CheckResult", "ReadinessContext", "Status", "collect_results", "run_readiness",
           "worst"]
