"""Early start-up, before any Qt import (Qt-free).

The order matters and follows qutebrowser's earlyinit:

1. ``early.setup_logging``          rotating log file in the data dir (no console needed)
2. ``early.arm_faulthandler``       native crashes land in a crash log even in a windowed
                                    frozen build that has no stderr
3. ``deps.check_dependencies``      plain message (MessageBoxW / stderr) if something is missing
4. settings (client.config)         user.ini, incl. ``[OpenGL] Level``
5. ``client.render``                choose the rendering level, set its environment
6. ``early.install_excepthooks``    calm dialog + restart instead of a dead window
7. QApplication (client.ui)         attributes from client.render.levels, then the window

docs/rendering.md shows the whole sequence as code.
"""
