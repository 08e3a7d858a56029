#!/bin/bash
# One pair: QLoop's pages through gunicorn, then the peer's, on a quiet machine (issue 14).
set -e
cd "$(dirname "$0")/../../.."
echo "== QLoop $(date -u +%T) $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf /tmp/wrk-100k && cp -r /tmp/qloop-bench/sqlite-100k /tmp/wrk-100k
.venv/bin/python bench/pages_wrk.py --data-dir /tmp/wrk-100k --config 2x1 --duration 8 --output /tmp/pair-qloop.jsonl
echo "== peer $(date -u +%T) $(cut -d' ' -f1-3 /proc/loadavg)"
cd ../shared/peers/django-helpdesk && WORK=/tmp/peerbench PORT=8791 DURATION=8 REPEATS=1 SKIP_EXPORT=1 bash run.sh 100000 | tail -25
echo "== end $(date -u +%T) $(cut -d' ' -f1-3 /proc/loadavg)"
