"""A started container served over HTTP on 127.0.0.1 with SageMaker's container contract: GET /ping,
POST /invocations (Content-Type and Accept headers as SageMaker passes them). Used in serve mode and by
the latency benchmark."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from local_aws.sagemaker.container import FrameworkContainer

MAX_BODY = 6 * 1024 * 1024  # SageMaker's real-time payload limit: larger requests never reach the container


def serve_container(container: FrameworkContainer, port: int = 0) -> str:
    """Serve `container` on a daemon thread; returns its base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else every keep-alive response waits ~40 ms for the client's ACK

        def do_GET(self) -> None:
            if self.path != "/ping":
                self._send(404, b"", "text/plain")
                return
            self._send(container.ping(), b"", "text/plain")

        def do_POST(self) -> None:
            if self.path != "/invocations":
                self._send(404, b"", "text/plain")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, b"payload too large", "text/plain")
                return
            body = self.rfile.read(length)
            response = container.invoke(body, self.headers.get("Content-Type"), self.headers.get("Accept"))
            self._send(response.status, response.body, response.content_type)

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # the container's requests are not console output

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # many clients connecting at once are queued, not reset

    server = Server(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="sagemaker-container-http", daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"
