#!/usr/bin/env bash
# Stops everything up.sh (and `cargo xtask cluster up`) started in $KUBE_RUN_DIR: the operator first
# (so it releases its lease), then the control plane all at once: SIGTERM, up to 5 s to exit, then
# SIGKILL. Keeps the data; pass --purge to delete the run dir too.
set -uo pipefail
R=${KUBE_RUN_DIR:?set KUBE_RUN_DIR}

# ours PID: the process is still one we started (its command line or environment names the run
# dir), so a stale pid file never makes us signal an unrelated process that reused the pid.
ours() { grep -qaF "$R" "/proc/$1/cmdline" "/proc/$1/environ" 2>/dev/null; }

# stop NAME...: SIGTERM all, wait up to 5 s for all, SIGKILL the rest.
stop() {
  local pids=() name f pid
  for name in "$@"; do
    f=$R/run/$name.pid
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if ours "$pid" && kill "$pid" 2>/dev/null; then pids+=("$pid"); fi
    rm -f "$f"
  done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  return 0
}

# Operators: `operator` (cargo xtask cluster up) and any `operator-*` (test harnesses).
operators=()
for f in "$R"/run/operator*.pid; do
  [ -e "$f" ] && operators+=("$(basename "$f" .pid)")
done
[ ${#operators[@]} -gt 0 ] && stop "${operators[@]}"
stop kwok scheduler kcm apiserver etcd
if [ "${1:-}" = "--purge" ]; then
  rm -rf "$R"
fi
exit 0
