"""The X-Ray daemon sidecar of a traced task, played by the local cloud.

A task definition with an ``aws-xray-daemon`` container runs the daemon beside the
service: the service sends segments over UDP to port 2000 of the task's own network
namespace, and the daemon uploads them with PutTraceSegments
(https://docs.aws.amazon.com/xray/latest/devguide/xray-daemon.html). The local cloud runs
only a task's first container, so it listens on UDP 2000 at the task's own address
itself and files each segment in moto's X-Ray of the task's account and region, where
``GetTraceSummaries`` / ``BatchGetTraces`` find them. The segment protocol is a JSON
header line and one JSON segment per datagram.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

DAEMON_PORT = 2000
DAEMON_IMAGE = "aws-xray-daemon"
log = logging.getLogger(__name__)


def wants_daemon(containers: list[dict[str, Any]]) -> bool:
    """Whether a task definition's containers include the X-Ray daemon sidecar."""
    return any(DAEMON_IMAGE in str(c.get("image") or "") for c in containers[1:])


class XrayDaemons:
    """One UDP listener per traced task, at the task's address."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock  # moto's lock: segments are filed under it
        self._sockets: dict[str, socket.socket] = {}

    def start(self, task_arn: str, address: str, account: str, region: str) -> str:
        """Listen for the task's segments; the daemon address to give the task."""
        if task_arn in self._sockets:  # a start retried after its process failed to spawn
            return f"{address}:{DAEMON_PORT}"
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((address, DAEMON_PORT))
        except OSError as error:  # as on AWS when the sidecar cannot start: no traces
            sock.close()
            log.warning("X-Ray daemon of %s cannot listen on %s: %s", task_arn, address, error)
            return f"{address}:{DAEMON_PORT}"
        self._sockets[task_arn] = sock
        thread = threading.Thread(
            target=self._receive,
            args=(sock, account, region),
            name=f"xray-daemon {address}",
            daemon=True,
        )
        thread.start()
        return f"{address}:{DAEMON_PORT}"

    def stop(self, task_arn: str) -> None:
        sock = self._sockets.pop(task_arn, None)
        if sock is not None:
            sock.close()

    def stop_all(self) -> None:
        for task_arn in list(self._sockets):
            self.stop(task_arn)

    def _receive(self, sock: socket.socket, account: str, region: str) -> None:
        while True:
            try:
                data = sock.recv(65535)
            except OSError:
                return  # closed: the task is gone
            _, _, segment = data.decode("utf-8", "replace").partition("\n")
            try:
                self._file(segment, account, region)
            except Exception as error:  # a bad segment is the daemon's to drop, not ours
                log.warning("dropped an X-Ray segment: %s", error)

    def _file(self, segment: str, account: str, region: str) -> None:
        from moto.xray.models import xray_backends

        with self.lock:
            xray_backends[account][region].process_segment(segment)
