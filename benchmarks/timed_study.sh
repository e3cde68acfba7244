#!/bin/bash
# `make study` with a time stamp on every output line, for benchmarks/stage_times.py:
#   SEGSTUDY_DATA_MIRROR=/abs/path/to/shared/data benchmarks/timed_study.sh > study.log 2>&1
#   python benchmarks/stage_times.py study.log
# Then it compares the run's dvc.lock with the commit's (benchmarks/lock_diff.py): which
# outputs came out identical to the published ones.
set -o pipefail
start=$(date +%s)
echo "$(date +%T) START $(git rev-parse --short HEAD)"
/usr/bin/time -f "make study: %e s wall, peak RSS %M KB" make study 2>&1 |
    while IFS= read -r line; do echo "$(date +%T) $line"; done
rc=$?
echo "$(date +%T) END rc=$rc elapsed=$(( $(date +%s) - start )) s"
published=$(mktemp)
git show HEAD:dvc.lock > "$published" && .venv/bin/python benchmarks/lock_diff.py "$published" dvc.lock
rm -f "$published"
exit $rc
