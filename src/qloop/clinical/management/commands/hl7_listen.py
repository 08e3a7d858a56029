"""``qloop hl7-listen``: the MLLP service that takes results from the hospital's systems."""

from __future__ import annotations

import signal
import socketserver
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from qloop.clinical import hl7v2

MAX_FRAME = 10 * 1024 * 1024


class MLLPHandler(socketserver.BaseRequestHandler):
    """One connection: any number of framed messages, each answered with its ACK in turn."""

    def handle(self) -> None:
        buffer = bytearray()
        try:
            while True:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                buffer.extend(chunk)
                if len(buffer) > MAX_FRAME:
                    return  # not MLLP, or a runaway sender: drop the connection
                for payload in hl7v2.frames(buffer):
                    self.request.sendall(hl7v2.frame(hl7v2.receive(payload, transport="mllp")))
        except (ConnectionError, TimeoutError):
            return
        finally:
            connection.close()


class MLLPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve(host: str, port: int) -> MLLPServer:
    return MLLPServer((host, port), MLLPHandler)


class Command(BaseCommand):
    help = "Listen for HL7 v2 messages over MLLP (ORU^R01 results; ACK after storing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2575)

    def handle(self, *args: Any, **options: Any) -> None:
        server = serve(options["host"], options["port"])

        def stop(signum: int, frame: Any) -> None:
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        host, port = str(server.server_address[0]), server.server_address[1]
        self.stdout.write(f"Listening for HL7 v2 (MLLP) on {host}:{port}", ending="\n")
        self.stdout.flush()
        with server:
            server.serve_forever()
