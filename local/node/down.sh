#!/usr/bin/env bash
# Stops the real node started by up.sh and undoes what it did to the host, in an order that
# leaves nothing behind: pods deleted through the kubelet first (CNI DEL frees addresses and
# per-pod rules; container shims outlive containerd otherwise), then kube-proxy's rules, the
# kubelet, leftover containers, containerd, CoreDNS; then the bridge, every KUBE-/CNI- iptables
# chain, mounts under the run directory, the kubelet's cgroups, the fixed paths the node used,
# and the sysctls as recorded before the node started. Idempotent. The control plane is left alone.
#
# Environment: NODE_DIR, KUBE_RUN_DIR, KUBE_BIN, NODE_BIN as for up.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
R=${NODE_DIR:?set NODE_DIR}
CP=${KUBE_RUN_DIR:?set KUBE_RUN_DIR}
KB=${KUBE_BIN:?set KUBE_BIN}
NB=${NODE_BIN:-}
NODE_NAME=${NODE_NAME:-local-node}
K=$CP/admin.kubeconfig
A=$R/containerd/containerd.sock
source "$here/sysctls.sh"
[ -d "$R" ] || exit 0

kubectl() { timeout 20 "$KB/kubectl" --kubeconfig="$K" --request-timeout=5s "$@"; }
ctr_() { timeout 10 ctr --connect-timeout 1s -a "$A" -n k8s.io "$@"; }
alive() { [ -f "$R/run/$1.pid" ] && kill -0 "$(cat "$R/run/$1.pid")" 2>/dev/null; }
ours() { grep -qaF "$R" "/proc/$1/cmdline" 2>/dev/null; }
stop() {
  local f=$R/run/$1.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if ours "$pid" && kill "$pid" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$f"
}

# 1. Pods go through the kubelet while it runs, so the CNI plugins release what they set up.
if alive kubelet && alive containerd; then
  kubectl delete pods --all-namespaces --field-selector "spec.nodeName=$NODE_NAME" \
    --grace-period=1 --wait=false >/dev/null 2>&1
  for _ in $(seq 120); do
    [ -z "$(kubectl get pods --all-namespaces --no-headers --field-selector "spec.nodeName=$NODE_NAME" 2>/dev/null)" ] && break
    sleep 0.25
  done
  for _ in $(seq 40); do
    [ -z "$(ctr_ tasks ls -q 2>/dev/null)" ] && break
    sleep 0.25
  done
fi
stop kubelet
stop kube-proxy
[ -n "$NB" ] && [ -x "$NB/kube-proxy" ] && "$NB/kube-proxy" --cleanup >/dev/null 2>&1
# 2. Whatever the kubelet did not get to: containers and sandboxes, without CNI.
if alive containerd; then
  for t in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s KILL "$t"; done >/dev/null 2>&1
  sleep 0.5
  for t in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks rm -f "$t"; done >/dev/null 2>&1
  for c in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers rm "$c"; done >/dev/null 2>&1
fi
stop containerd
stop coredns
# Shims whose containerd is gone.
for pid in $(pgrep -f "containerd-shim.*$R" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
kubectl delete node "$NODE_NAME" --wait=false >/dev/null 2>&1

# 3. The host.
ip link del sfcni0 2>/dev/null
for ipt in iptables ip6tables; do
  for tbl in filter nat mangle; do
    $ipt -t $tbl -S 2>/dev/null | grep -E '^-A .*(KUBE-|CNI-)' | sed 's/^-A/-D/' |
      while read -r rule; do eval "$ipt -t $tbl $rule"; done
    for c in $($ipt -t $tbl -S 2>/dev/null | awk '/^-N (KUBE-|CNI-)/{print $2}'); do $ipt -t $tbl -F "$c"; done
    for c in $($ipt -t $tbl -S 2>/dev/null | awk '/^-N (KUBE-|CNI-)/{print $2}'); do $ipt -t $tbl -X "$c"; done
  done
done 2>/dev/null
grep -o " $R[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
for m in $(grep -oE ' /(var/lib/kubelet|run/containerd|run/netns)[^ ]*' /proc/mounts | sort -r); do umount -l "$m"; done
for h in /sys/fs/cgroup/*/; do
  for top in kubepods kubepods.slice k8s.io; do
    [ -d "$h$top" ] && find "$h$top" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
done
if [ -f "$R/sysctl-before" ]; then
  while IFS== read -r k v; do
    [ "$v" = NA ] && continue
    [ -w "/proc/sys/$k" ] && [ "$(cat "/proc/sys/$k")" != "$v" ] && echo "$v" > "/proc/sys/$k"
  done < "$R/sysctl-before"
  rm -f "$R/sysctl-before"
fi
rm -rf /var/lib/kubelet /var/lib/cni /var/log/containers /var/log/pods /run/containerd /run/nri
rm -f /run/xtables.lock
rm -rf "$R/containerd/state" "$R/containerd/runc-root" "$R/cni/ipam" "$R/kubelet/root" "$R/pod-logs"
exit 0
