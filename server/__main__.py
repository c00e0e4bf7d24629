"""``python -m server`` is the same as the ``exam-server`` command."""

from server.cli import main

raise SystemExit(main())
