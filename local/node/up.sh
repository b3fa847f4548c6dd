#!/usr/bin/env bash
# Turns the local control plane (../kube/up.sh) into a cluster with one real node: containerd
# (with runc and the CNI plugins), the kubelet, kube-proxy (iptables) and CoreDNS serving
# cluster.local only. Needs root. Records every sysctl it may change in $NODE_DIR/sysctl-before
# so down.sh restores them. Every wait is bounded and checks that its process is still alive.
#
# Environment:
#   NODE_DIR       run directory (required): configs, containerd state, logs/, run/*.pid
#   KUBE_RUN_DIR   the control plane's run directory (admin.kubeconfig, pki/)
#   KUBE_BIN       control plane binaries (kubectl)
#   NODE_BIN       kubelet, kube-proxy, coredns (built by ../kube/build-node.sh)
#   NODE_IP        the node's own address (pods reach the host through it)
#   PAUSE_IMAGE    reference of the sandbox image; PAUSE_ARCHIVE its OCI archive
#   WAIT_SECONDS   bound of each wait (default 90)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
R=${NODE_DIR:?set NODE_DIR}
CP=${KUBE_RUN_DIR:?set KUBE_RUN_DIR}
KB=${KUBE_BIN:?set KUBE_BIN}
NB=${NODE_BIN:?set NODE_BIN}
IP=${NODE_IP:?set NODE_IP}
PAUSE_IMAGE=${PAUSE_IMAGE:?set PAUSE_IMAGE}
PAUSE_ARCHIVE=${PAUSE_ARCHIVE:?set PAUSE_ARCHIVE}
WAIT_SECONDS=${WAIT_SECONDS:-90}
NODE_NAME=${NODE_NAME:-local-node}
POD_CIDR=10.88.0.0/16
POD_GATEWAY=10.88.0.1
K=$CP/admin.kubeconfig
A=$R/containerd/containerd.sock
source "$here/sysctls.sh"

mkdir -p "$R/run" "$R/logs" "$R/cni/net.d" "$R/cni/ipam" "$R/pod-logs" "$R/kubelet" "$R/kube-proxy" \
  "$R/coredns" "$R/containerd"
trap 'status=$?; [ $status -ne 0 ] && "$here/down.sh"; exit $status' EXIT

t0=$(date +%s%N)
elapsed() { echo "$(( ($(date +%s%N) - t0) / 1000000 )) ms"; }
kubectl() { "$KB/kubectl" --kubeconfig="$K" "$@"; }
ctr_() { ctr --connect-timeout 1s -a "$A" -n k8s.io "$@"; }

wait_for() {
  local name=$1; shift
  local pid; pid=$(cat "$R/run/$name.pid")
  local deadline=$(( $(date +%s) + WAIT_SECONDS ))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: $name exited; last log lines ($R/logs/$name.log):" >&2
      tail -n 20 "$R/logs/$name.log" >&2
      exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "error: timed out after ${WAIT_SECONDS}s waiting for $name: $*" >&2
      tail -n 20 "$R/logs/$name.log" >&2
      exit 1
    fi
    sleep 0.1
  done
}

start() {
  local name=$1; shift
  if [ -f "$R/run/$name.pid" ] && kill -0 "$(cat "$R/run/$name.pid")" 2>/dev/null; then
    return 0
  fi
  setsid "$@" </dev/null >"$R/logs/$name.log" 2>&1 &
  echo $! > "$R/run/$name.pid"
}

# The host as it was before the node touched it (kept across restarts: the first record wins).
[ -f "$R/sysctl-before" ] || record_sysctls > "$R/sysctl-before"

cat > "$R/containerd/config.toml" <<X
version = 2
root = "$R/containerd/root"
state = "$R/containerd/state"
[grpc]
  address = "$A"
[ttrpc]
  address = "$A.ttrpc"
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$R/containerd/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$PAUSE_IMAGE"
    netns_mounts_under_state_dir = true
    # Without CAP_SYS_RESOURCE (as in many VMs) runc cannot lower oom_score_adj.
    restrict_oom_score_adj = true
    disable_apparmor = true
    enable_selinux = false
    stream_server_address = "127.0.0.1"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$R/cni/net.d"
      max_conf_num = 1
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          BinaryName = "/usr/sbin/runc"
          Root = "$R/containerd/runc-root"
          SystemdCgroup = false
X

cat > "$R/cni/net.d/10-storefront.conflist" <<X
{
  "cniVersion": "1.0.0",
  "name": "storefront",
  "plugins": [
    {"type": "bridge", "bridge": "sfcni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$R/cni/ipam",
              "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
X

# cgroup v1 hosts (and hybrid ones) need failCgroupV1: false; cgroupfs, not systemd.
cgroup_driver=cgroupfs
cat > "$R/kubelet/config.yaml" <<X
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: $cgroup_driver
failSwapOn: false
containerRuntimeEndpoint: unix://$A
imageServiceEndpoint: unix://$A
address: $IP
port: 20250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 20251
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $CP/pki/ca.crt}
authorization:
  mode: Webhook
resolvConf: $R/resolv.conf
clusterDomain: cluster.local
clusterDNS: [$IP]
podLogsDir: $R/pod-logs
serializeImagePulls: false
# Images are imported, never pulled: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
maxPods: 110
X
# Pods resolve names through the cluster DNS only; nothing is forwarded off the machine.
echo "nameserver $IP" > "$R/resolv.conf"

cat > "$R/kube-proxy/config.yaml" <<X
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $K}
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:20256
metricsBindAddress: 127.0.0.1:20249
# Replies of a pod that reached a Service backed by a pod on the same bridge come back through
# the host.
iptables: {masqueradeAll: true}
conntrack: {maxPerCore: 0, min: 0}
X

cat > "$R/coredns/Corefile" <<X
cluster.local:53 {
    bind $IP
    errors
    ready 127.0.0.1:20181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $K
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
.:53 {
    bind $IP
    errors
    template ANY ANY {
        rcode NXDOMAIN
    }
}
X

start containerd containerd --config "$R/containerd/config.toml"
wait_for containerd ctr --connect-timeout 1s -a "$A" version
echo "containerd up after $(elapsed)"
ctr_ images import "$PAUSE_ARCHIVE" >/dev/null
echo "sandbox image $PAUSE_IMAGE imported after $(elapsed)"

start coredns "$NB/coredns" -conf "$R/coredns/Corefile"
start kube-proxy "$NB/kube-proxy" --config="$R/kube-proxy/config.yaml"
start kubelet "$NB/kubelet" --config="$R/kubelet/config.yaml" --kubeconfig="$K" \
  --root-dir="$R/kubelet/root" --cert-dir="$R/kubelet/pki" \
  --hostname-override="$NODE_NAME" --node-ip="$IP" -v=1
wait_for kubelet kubectl get node "$NODE_NAME"
wait_for kubelet kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
echo "node $NODE_NAME Ready after $(elapsed)"
wait_for kube-proxy iptables -w 5 -t nat -S KUBE-SERVICES
echo "kube-proxy programmed Services after $(elapsed)"
wait_for coredns curl -sf --max-time 1 http://127.0.0.1:20181/ready
echo "CoreDNS serving cluster.local on $IP:53 after $(elapsed)"
