"""Serve the local AWS on 127.0.0.1 over HTTP, for the AWS CLI and other processes.

Differences from moto's ThreadedMotoServer, each a fix of something a user met: the port is bound
in the caller's thread, so a busy port fails at once with a clear error (moto's server thread died
and `start()` waited forever); requests are not logged to the console (werkzeug printed a coloured
access-log line per request into the middle of the demo's output); they go to the `local_aws.http`
logger at DEBUG instead.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

LOG = logging.getLogger("local_aws.http")


class PortInUseError(OSError):
    pass


class _QuietRequestHandler(MotoRequestHandler):
    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        LOG.debug('%s "%s" %s %s', self.address_string(), self.requestline, code, size)

    def log(self, type: str, message: str, *args: Any) -> None:  # werkzeug's signature
        getattr(LOG, "error" if type == "error" else "debug")(message, *args)


@dataclass
class LocalServer:
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def _in_use(port: int, host: str) -> PortInUseError:
    return PortInUseError(errno.EADDRINUSE, f"port {port} on {host} is already in use; stop what holds it "
                          f"(e.g. `ss -ltnp 'sport = :{port}'`) or choose another with --port")


def check_port_free(port: int, host: str = "127.0.0.1") -> None:
    """Raise PortInUseError if `host:port` cannot be bound (port 0 always can)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise _in_use(port, host) from None


def start_server(port: int, host: str = "127.0.0.1") -> LocalServer:
    """Bind `host:port` (0 picks a free port) and serve on a daemon thread; PortInUseError if it is taken."""
    check_port_free(port, host)
    try:
        server = make_server(host, port, DomainDispatcherApplication(create_backend_app), threaded=True,
                             request_handler=_QuietRequestHandler)
    except SystemExit:  # werkzeug prints and exits when the bind fails (taken between the check and here)
        raise _in_use(port, host) from None
    thread = threading.Thread(target=server.serve_forever, name=f"local-aws-http-{port}", daemon=True)
    thread.start()
    return LocalServer(server, thread)
