"""A local Sentry ingest endpoint: accepts what sentry-sdk sends to a DSN and keeps the events.

It implements the envelope endpoint of Sentry's ingestion protocol
(``POST /api/<project>/envelope/``, gzip or plain), enough to see what
Kestrel reports. Point ``KESTREL_SENTRY_DSN`` at ``http://<key>@127.0.0.1:<port>/<project>``.
"""

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler
from typing import Any

from kestrel_local.http_server import BackgroundHttpServer


def parse_envelope(raw: bytes) -> list[tuple[dict[str, Any], Any]]:
    """Split an envelope into (item header, payload) pairs."""
    lines = raw.split(b"\n")
    items: list[tuple[dict[str, Any], Any]] = []
    index = 1  # line 0 is the envelope header
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        header = json.loads(lines[index])
        index += 1
        length = header.get("length")
        if length is not None:
            rest = b"\n".join(lines[index:])
            payload_bytes = rest[:length]
            index += payload_bytes.count(b"\n") + 1
        else:
            payload_bytes = lines[index]
            index += 1
        try:
            payload: Any = json.loads(payload_bytes)
        except ValueError:
            payload = payload_bytes
        items.append((header, payload))
    return items


class SentryIngest(BackgroundHttpServer):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        ingest = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                elif encoding == "br":
                    self.send_response(415)
                    self.end_headers()
                    return
                for header, payload in parse_envelope(body):
                    if header.get("type") == "event" and isinstance(payload, dict):
                        with ingest._lock:
                            ingest.events.append(payload)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"id":"00000000000000000000000000000000"}')

            def log_message(self, format: str, *args: Any) -> None:
                return

        super().__init__(host, port, Handler, name="sentry")

    @property
    def dsn(self) -> str:
        return self.url.replace("http://", "http://publickey@") + "/1"

    def exceptions(self) -> list[tuple[str, str]]:
        with self._lock:
            return [
                (value.get("type", ""), value.get("value", ""))
                for event in self.events
                for value in event.get("exception", {}).get("values", [])
            ]
