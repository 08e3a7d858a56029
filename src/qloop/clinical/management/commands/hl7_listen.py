"""``qloop hl7-listen``: the MLLP service that takes results from the hospital's systems.

One thread per connection reads frames; writer threads store them (group commit): a writer
takes every message waiting on every connection, applies them in one transaction (each
message atomic on its own), commits once, and only then hands each connection its ACKs. An ACK
is never sent before the commit that stored its message.

On PostgreSQL more than one writer can run (``QLOOP_HL7_WRITERS``, default one), each with
its own connection: while one waits for the server (its statements, its commit's flush to
disk), the other reads and builds its batch. A connection has one batch in flight at a time, so its ACKs
stay in order. The same message arriving in two batches at once is applied once: the unique
constraint on (sender, MSH-10) makes the second insert wait for the first transaction and then
fail, and that batch is taken again message by message, which answers it as a repeat. SQLite
takes one writer at a time, so it keeps one writer thread.

On PostgreSQL the listener can also run as several processes (``QLOOP_HL7_PROCESSES``,
``--processes``): the command opens the port, then starts that many copies of the listener
that share it, each with its own interpreter, writer and database connection, so the Python
work of parsing and storing runs on more than one core. A new connection goes to the copy
that holds the fewest. The first process only watches: if it stops, by SIGTERM or SIGKILL, so
do the copies (the kernel kills them when it dies), and if a copy stops, the others are
stopped and the command exits with an error for its supervisor to start it again. A
connection's messages are all taken by one copy, so its ACKs stay in order; the same message
on two connections held by two copies is applied once, as with two writers.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import queue
import signal
import socket
import socketserver
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from qloop.clinical import hl7v2

log = logging.getLogger(__name__)

MAX_FRAME = 10 * 1024 * 1024
MAX_BATCH = 200
WRITERS = 1  # on PostgreSQL (QLOOP_HL7_WRITERS); SQLite always has one
PROCESSES = 2  # QLOOP_HL7_PROCESSES (PostgreSQL); SQLite always has one
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
SYNCHRONOUS = {"", "NORMAL", "FULL", "EXTRA"}  # SQLite's PRAGMA synchronous, "": leave it


@dataclass
class _Job:
    """The frames one connection had waiting, and (once committed) their ACKs."""

    payloads: list[bytes]
    done: threading.Event = field(default_factory=threading.Event)
    acks: list[bytes] = field(default_factory=list)
    failed: bool = False


class Writer:
    """The threads that write: batches of messages from all connections, one commit per
    batch. ``threads`` writers take batches from the same queue, each on its own database
    connection (SQLite: always one, it takes one writer at a time)."""

    def __init__(self, max_batch: int = MAX_BATCH, synchronous: str = "", threads: int = 1) -> None:
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"QLOOP_HL7_SQLITE_SYNCHRONOUS must be one of {sorted(SYNCHRONOUS)}")
        self.max_batch = max(1, max_batch)
        self.synchronous = synchronous
        self._local = threading.local()  # each writer's raw connection (see _connect)
        self.jobs: queue.Queue[_Job | None] = queue.Queue()
        if connection.vendor == "sqlite":
            threads = 1
        self.threads = [
            threading.Thread(target=self._run, name=f"hl7-writer-{n}", daemon=True)
            for n in range(max(1, threads))
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, payloads: list[bytes]) -> list[bytes] | None:
        """The ACKs for these frames, after they are committed; None when they could not be
        stored (the connection is then dropped without an ACK: the sender sends again)."""
        job = _Job(payloads)
        self.jobs.put(job)
        job.done.wait()
        return None if job.failed else job.acks

    def stop(self) -> None:
        self.jobs.put(None)  # each writer puts it back for the next one
        for thread in self.threads:
            thread.join(timeout=30)

    def _take(self, first: _Job) -> list[_Job]:
        jobs, count = [first], len(first.payloads)
        while count < self.max_batch:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self.jobs.put(None)  # stop after this batch
                break
            jobs.append(job)
            count += len(job.payloads)
        return jobs

    def _run(self) -> None:
        try:
            while True:
                first = self.jobs.get()
                if first is None:
                    self.jobs.put(None)
                    return
                jobs = self._take(first)
                self._write(jobs)
        finally:
            connection.close()

    def _write(self, jobs: list[_Job]) -> None:
        try:
            self._connect()
            acks = hl7v2.receive_many([p for job in jobs for p in job.payloads], transport="mllp")
        except Exception:
            log.exception("HL7 batch not stored; its connections are dropped without an ACK")
            connection.close()
            for job in jobs:
                job.failed = True
                job.done.set()
            return
        at = 0
        for job in jobs:
            job.acks = acks[at : at + len(job.payloads)]
            at += len(job.payloads)
            job.done.set()

    def _connect(self) -> None:
        """One database connection for the writer's life, opened again only after a failure
        (closing it after every batch, as ``CONN_MAX_AGE`` 0 on SQLite would, cost more than
        storing a message). On SQLite, a new connection gets the listener's ``synchronous``:
        how hard each commit is pushed to the disk (see docs/clinical.md)."""
        connection.ensure_connection()
        if connection.connection is getattr(self._local, "raw", None):
            return
        self._local.raw = connection.connection
        if connection.vendor == "sqlite" and self.synchronous:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA synchronous={self.synchronous}")


class MLLPHandler(socketserver.BaseRequestHandler):
    """One connection: any number of framed messages; every complete frame waiting is handed
    to the writer at once and answered, in order, once stored."""

    server: MLLPServer

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
                payloads = hl7v2.frames(buffer)
                if not payloads:
                    continue
                acks = self.server.writer.submit(payloads)
                if acks is None:
                    return
                self.request.sendall(b"".join(hl7v2.frame(ack) for ack in acks))
        except (ConnectionError, TimeoutError):
            return


class Peers:
    """How many connections each copy of a pre-forked listener holds, in memory they share
    (one slot each, written only by its own copy): a copy leaves a new connection to a copy
    that holds fewer, for a moment."""

    WAIT = 0.05  # seconds a copy leaves a connection to the others before it takes it

    def __init__(self, count: int) -> None:
        self.slots = multiprocessing.RawArray("i", count)
        self.mine = 0
        self._lock = threading.Lock()

    def should_wait(self) -> bool:
        own = self.slots[self.mine]
        return any(n < own for i, n in enumerate(self.slots) if i != self.mine)

    def add(self, delta: int) -> None:
        with self._lock:
            self.slots[self.mine] += delta


class MLLPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        writer: Writer,
        *,
        sock: socket.socket | None = None,
        peers: Peers | None = None,
    ) -> None:
        self.writer = writer
        self.peers = peers
        super().__init__(address, MLLPHandler, bind_and_activate=sock is None)
        if sock is not None:  # a copy of a pre-forked listener: the port its parent opened
            self.socket.close()
            self.socket = sock
            self.server_address = sock.getsockname()

    def get_request(self) -> tuple[socket.socket, Any]:
        """The next connection. A copy of a pre-forked listener holding more connections than
        another first leaves it to that one for a moment; the port is shared and not blocking,
        so a connection another copy took is no connection here (``OSError``, which
        ``socketserver`` passes over)."""
        if self.peers is None:
            return super().get_request()
        deadline = time.monotonic() + Peers.WAIT
        while self.peers.should_wait() and time.monotonic() < deadline:
            time.sleep(0.002)
        conn, address = self.socket.accept()
        conn.setblocking(True)
        self.peers.add(1)
        return conn, address

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        if self.peers is not None:
            self.peers.add(-1)

    def server_close(self) -> None:
        super().server_close()
        self.writer.stop()


def serve(
    host: str,
    port: int,
    *,
    max_batch: int = 0,
    synchronous: str | None = None,
    writers: int = 0,
    sock: socket.socket | None = None,
    peers: Peers | None = None,
) -> MLLPServer:
    """The listener, not yet serving; ``max_batch``/``synchronous``/``writers`` default to
    the settings ``QLOOP_HL7_MAX_BATCH``, ``QLOOP_HL7_SQLITE_SYNCHRONOUS`` and
    ``QLOOP_HL7_WRITERS``. ``sock``/``peers``: a copy of a pre-forked listener (``prefork``)."""
    if synchronous is None:
        synchronous = str(getattr(settings, "QLOOP_HL7_SQLITE_SYNCHRONOUS", "FULL"))
    writer = Writer(
        max_batch or int(getattr(settings, "QLOOP_HL7_MAX_BATCH", MAX_BATCH)),
        synchronous.upper(),
        writers or int(getattr(settings, "QLOOP_HL7_WRITERS", WRITERS)),
    )
    return MLLPServer((host, port), writer, sock=sock, peers=peers)


def processes_wanted(asked: int = 0) -> int:
    """How many listener processes: ``asked``, else ``QLOOP_HL7_PROCESSES``; always one on
    SQLite (it takes one writer at a time)."""
    if connection.vendor == "sqlite":
        return 1
    return max(1, asked or int(getattr(settings, "QLOOP_HL7_PROCESSES", PROCESSES)))


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux), so that a SIGKILL of
    the listener stops every copy of it and leaves no one holding the port."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        log.warning("HL7 listener copy cannot ask to die with its parent (not Linux)")
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def prefork(host: str, port: int, count: int, run: Any) -> int:
    """Open the port, start ``count`` processes that each call ``run(sock, peers)`` on it,
    and watch them; the exit status for the command. The database and cache connections are
    closed first (a connection must never be shared by two processes)."""
    from django.core.cache import caches
    from django.db import connections

    connections.close_all()
    for cache in caches.all(initialized_only=True):
        cache.close()
    sock = socket.create_server((host, port), backlog=128)
    sock.setblocking(False)
    peers = Peers(count)
    parent = os.getpid()
    children: list[int] = []
    for n in range(count):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                _die_with_parent(parent)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
                peers.mine = n
                run(sock, peers)
                code = 0
            except BaseException:
                log.exception("HL7 listener copy %d stopped", n)
            finally:
                sys.stdout.flush()
                os._exit(code)
        children.append(pid)
    sock.close()
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    while children:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        if pid not in children:
            continue
        children.remove(pid)
        if not stopping:  # a copy stopped on its own: stop the others, report it
            log.error("HL7 listener copy %d exited (status %d); stopping the others", pid, code)
            status = 1
            stop(signal.SIGTERM, None)
    return status


class Command(BaseCommand):
    help = "Listen for HL7 v2 messages over MLLP (ORU^R01 results; ACK after storing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2575)
        parser.add_argument(
            "--max-batch",
            type=int,
            default=0,
            help=f"most messages stored in one commit (default {MAX_BATCH})",
        )
        parser.add_argument(
            "--writers",
            type=int,
            default=0,
            help=f"writer threads on PostgreSQL (default {WRITERS}; SQLite: always 1)",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=0,
            help=f"listener processes sharing the port, PostgreSQL (default {PROCESSES}; "
            "SQLite: always 1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Django and QLoop as loaded (some 170,000 objects) are kept out of the garbage
        # collector's full passes: a batch's parsed messages live long enough to reach its
        # oldest generation, and each full pass then walked everything loaded (about 90 ms,
        # every 300-odd messages: a sixth of the listener's CPU). Before a fork, this also
        # keeps the copies from writing to (and so copying) the pages of what they share.
        gc.freeze()
        count = processes_wanted(options["processes"])
        if count == 1:
            self._serve(options)
            return
        host, port = options["host"], options["port"]
        self.stdout.write(
            f"Listening for HL7 v2 (MLLP) on {host}:{port} ({count} processes)", ending="\n"
        )
        self.stdout.flush()
        status = prefork(host, port, count, lambda sock, peers: self._serve(options, sock, peers))
        if status:
            raise SystemExit(status)

    def _serve(
        self, options: dict[str, Any], sock: socket.socket | None = None, peers: Any = None
    ) -> None:
        server = serve(
            options["host"],
            options["port"],
            max_batch=options["max_batch"],
            writers=options["writers"],
            sock=sock,
            peers=peers,
        )

        def stop(signum: int, frame: Any) -> None:
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        if peers is None:
            signal.signal(signal.SIGINT, stop)
            host, port = str(server.server_address[0]), server.server_address[1]
            self.stdout.write(f"Listening for HL7 v2 (MLLP) on {host}:{port}", ending="\n")
            self.stdout.flush()
        with server:
            server.serve_forever()
