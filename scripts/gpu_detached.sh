#!/usr/bin/env bash
# Run scripts/gpu_check.sh on the lent machine detached from the call (setsid), so that a
# check longer than one call's limit goes on; each call waits up to SECONDS for it and hands
# back what it has written so far ($OUT is emptied before every call).
#
#   bash scripts/gpu_detached.sh start 540 [gpu_check.py options]   # first call
#   bash scripts/gpu_detached.sh wait 300                           # later calls, same machine
set -uo pipefail
cd "$(dirname "$0")/.."
STAGE=/tmp/catpose-gpu-out
LOG=/tmp/catpose-gpu.log
mode="$1"; seconds="${2:-540}"; shift 2 || true
if [[ "$mode" == "start" ]]; then
  rm -rf "$STAGE"; mkdir -p "$STAGE"
  OUT="$STAGE" setsid nohup bash scripts/gpu_check.sh "$@" > "$LOG" 2>&1 < /dev/null &
fi
end=$(( $(date +%s) + seconds ))
while [[ $(date +%s) -lt $end ]] && [[ ! -f "$STAGE/results.tar.gz" ]]; do
  sleep 5
  if ! pgrep -f "scripts/gpu_check" > /dev/null; then break; fi
done
sleep 2
cp "$STAGE"/* "$OUT"/ 2>/dev/null || true
cp "$LOG" "$OUT"/gpu_check.log 2>/dev/null || true
tail -c 6000 "$LOG"
ls -la "$OUT"
