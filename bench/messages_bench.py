"""Outbox delivery speed (issue #4): messages per second that one worker delivers.

N messages are queued in the outbox at once, then ``qloop.notify.outbox.deliver_due`` runs in
this one process, again and again, until none is pending; that is what one worker thread does
after a burst (a sweep, say). Two channels, each against a real receiver on 127.0.0.1 that
runs in a child process (so that it does not share this process's interpreter lock):

- e-mail: an aiosmtpd SMTP server that accepts every message (``EMAIL_URL=smtp://127.0.0.1:PORT``,
  as an administrator would set it); the worker keeps one SMTP connection per ``deliver_due``;
- webhook: a threaded ``http.server`` that answers 200 to every POST, through a generic
  webhook robot (JSON, HMAC-SHA256 signature); one HTTP connection per message.

Each message is claimed, rendered (e-mail: text and HTML parts), sent, marked sent and logged
with a DeliveryAttempt, as in production.

    .venv/bin/python bench/messages_bench.py --messages 2000 --data-dir /tmp/qloop-bench-msg
    .venv/bin/python bench/messages_bench.py --messages 2000 \
        --database-url postgres://postgres@127.0.0.1:5432/qloop_bench_messages
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_common_arguments, database_label, setup_django

KIND = "bench"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(smtp_port: int, http_port: int, received: Any, ready: Any, stop: Any) -> None:
    """The receivers, in a child process: count what arrives, accept everything."""
    import asyncio
    import logging
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with received.get_lock():
                received.value += 1
            return "250 2.0.0 Ok: queued"

    class HTTPHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            with received.get_lock():
                received.value += 1
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

    asyncio.set_event_loop(asyncio.new_event_loop())
    smtp = Controller(Handler(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    http = Server(("127.0.0.1", http_port), HTTPHandler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    ready.set()
    stop.wait()
    http.shutdown()
    smtp.stop()


_SUBJECT = "【QLoop】QC-2026-{i:06d} 客户投诉的答复期限还剩 3 小时"
_BODY = (
    "QC-2026-{i:06d}「洗衣机脱水时机械密封处漏水」的答复期限是 2026-12-01 17:30，还剩 3 小时。\n"
    "处理人：林小红\n"
    "请在期限前答复客户，或在案件页上说明原因。\n"
    "https://qloop.example.com/cases/QC-2026-{i:06d}/\n"
)


def _queue(channel: str, count: int, robot: Any) -> None:
    from django.utils import timezone

    from qloop.notify.models import Message

    now = timezone.now()
    Message.objects.bulk_create(
        (
            Message(
                channel=channel,
                kind=KIND,
                address=f"bench{i:05d}@example.com" if channel == "email" else "",
                robot=robot if channel != "email" else None,
                language="zh-hans",
                subject=_SUBJECT.format(i=i),
                body=_BODY.format(i=i),
                link=f"/cases/QC-2026-{i:06d}/",
                data={"number": f"QC-2026-{i:06d}", "clock": "customer_answer"},
                created_at=now,
                due_at=now,
            )
            for i in range(count)
        ),
        batch_size=1000,
    )


def _clean() -> None:
    from qloop.notify.models import DeliveryAttempt, Message

    DeliveryAttempt.objects.filter(message__kind=KIND).delete()
    Message.objects.filter(kind=KIND).delete()


def _run(channel: str, count: int, limit: int, robot: Any, received: Any) -> dict[str, Any]:
    from qloop.notify.models import DeliveryAttempt, Message, MessageState
    from qloop.notify.outbox import DeliveryReport, deliver_due

    _clean()
    _queue(channel, count, robot)
    with received.get_lock():
        received.value = 0
    report = DeliveryReport()
    calls = 0
    start = time.perf_counter()
    while Message.objects.filter(kind=KIND, state=MessageState.PENDING).exists():
        deliver_due(limit=limit, report=report)
        calls += 1
    seconds = time.perf_counter() - start
    load = os.getloadavg()
    sent = Message.objects.filter(kind=KIND, state=MessageState.SENT).count()
    attempts = DeliveryAttempt.objects.filter(message__kind=KIND).count()
    return {
        "channel": channel,
        "messages": count,
        "sent": sent,
        "received": received.value,
        "failed": report.failed,
        "retried": report.retried,
        "attempts_logged": attempts,
        "deliver_due_calls": calls,
        "seconds": seconds,
        "per_second": sent / seconds if seconds else 0.0,
        "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000, help="messages per channel")
    parser.add_argument("--limit", type=int, default=500, help="deliver_due's limit per call")
    parser.add_argument("--channels", default="email,webhook", help="email, webhook or both")
    parser.add_argument("--repeat", type=int, default=1, help="runs per channel")
    add_common_arguments(parser)
    args = parser.parse_args()

    smtp_port, http_port = _free_port(), _free_port()
    ctx = multiprocessing.get_context("fork")
    received = ctx.Value("i", 0)
    ready, stop = ctx.Event(), ctx.Event()
    server = ctx.Process(
        target=_serve, args=(smtp_port, http_port, received, ready, stop), daemon=True
    )
    server.start()
    if not ready.wait(30):
        raise SystemExit("the receivers did not start")
    try:
        os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{smtp_port}?timeout=10"
        setup_django(args.database_url, args.data_dir)
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        from qloop.notify.models import Robot

        robot, _ = Robot.objects.update_or_create(
            name="bench webhook",
            defaults={
                "channel": "webhook",
                "url": f"http://127.0.0.1:{http_port}/qloop",
                "secret": "bench-secret",
                "active": True,
            },
        )
        print(f"database={database_label()} messages={args.messages} limit={args.limit}")
        for channel in [c.strip() for c in args.channels.split(",") if c.strip()]:
            for _ in range(args.repeat):
                r = _run(channel, args.messages, args.limit, robot, received)
                print(
                    f"  {r['channel']:8s} sent={r['sent']}/{r['messages']} "
                    f"received={r['received']} failed={r['failed']} retried={r['retried']} "
                    f"attempts_logged={r['attempts_logged']} calls={r['deliver_due_calls']} "
                    f"seconds={r['seconds']:.2f} messages_per_second={r['per_second']:.1f} "
                    f"load={r['load']}"
                )
        _clean()
    finally:
        stop.set()
        server.join(10)


if __name__ == "__main__":
    main()
