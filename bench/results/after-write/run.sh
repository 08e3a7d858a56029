#!/bin/bash
# first page after a write, 100k vs 1M, before (a93978f) vs after (main), in turns
cd /work/main
for round in 1 2; do
for size in 100k 1m; do
for side in before after; do
  if [ $side = before ]; then PP=/tmp/lead-start/src; else PP=/work/main/src; fi
  echo "== round $round size $size side $side $(uptime | sed 's/.*load/load/')"
  PYTHONPATH=$PP .venv/bin/python bench/profile_pages.py --database-url postgres://postgres@127.0.0.1:5432/qloop_lead$size --data-dir /tmp/lead$size --after-write --page case_page --page list --page case_random --page api_list --requests 15 2>&1 | grep "cpu median"
done; done; done
