"""One client per user and data directory: a second start raises the first one's window.

The first start listens on a QLocalServer (a named pipe on Windows, a socket file
elsewhere) named by client.startup.single_instance.instance_key(). A second start
connects, sends "raise" and exits after the first answers.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

RAISE_REQUEST = b"raise\n"
ACK = b"ok\n"


class SingleInstance(QObject):
    activation_requested = Signal()

    def __init__(self, key: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._key = key
        self._server: QLocalServer | None = None

    @property
    def key(self) -> str:
        return self._key

    def notify_running_instance(self, *, timeout_ms: int = 1000) -> bool:
        """If another instance runs, ask it to raise its window. True when one answered."""
        socket = QLocalSocket()
        socket.connectToServer(self._key)
        if not socket.waitForConnected(timeout_ms):
            return False
        socket.write(RAISE_REQUEST)
        socket.waitForBytesWritten(timeout_ms)
        answered = socket.waitForReadyRead(timeout_ms) and socket.readAll().data() == ACK
        socket.disconnectFromServer()
        return bool(answered)

    def claim(self) -> bool:
        """Become the running instance, or tell the running one and return False."""
        if self.notify_running_instance():
            log.info("another client is running; asked it to come to the front")
            return False
        # A socket file left by a crashed instance (Unix) would make listen() fail.
        QLocalServer.removeServer(self._key)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self._key):
            log.error("single-instance server %s: %s", self._key, server.errorString())
            return True  # keep running: one exam client is better than none
        server.newConnection.connect(self._on_connection)
        self._server = server
        return True

    def release(self) -> None:
        """Stop listening (before a deliberate restart, so the new process can claim)."""
        if self._server is not None:
            self._server.close()
            QLocalServer.removeServer(self._key)
            self._server = None

    def _on_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._on_request(s))
            socket.disconnected.connect(socket.deleteLater)

    def _on_request(self, socket: QLocalSocket) -> None:
        data = bytes(socket.readAll().data())
        if data.startswith(RAISE_REQUEST.strip()):
            socket.write(ACK)
            socket.flush()
            self.activation_requested.emit()


def bring_to_front(window: QWidget) -> None:
    """Show *window* un-minimized and give it the focus (Windows may only flash it)."""
    if window.isMinimized():
        window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()
