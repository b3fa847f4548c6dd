#!/usr/bin/env bash
# Starts a local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and kwok with one simulated node, then a pool of hostPath PersistentVolumes so
# StatefulSet claims bind (there is no provisioner). Every wait is bounded and checks that the
# process it waits on is still alive.
#
# Environment:
#   KUBE_RUN_DIR   run directory (required): pki/, run/*.pid, logs/, etcd data, kubeconfig
#   KUBE_BIN       directory of the binaries built by build.sh
#                  (default ~/.cache/storefront/parts/kube-v1.37.2-etcd-v3.6.16-kwok-v0.8.0)
#   ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT SCHEDULER_PORT KWOK_PORT
#                  loopback ports (defaults 2379 2380 6443 10257 10259 10255)
#   PV_COUNT       hostPath PersistentVolumes to create (default 100)
#   WAIT_SECONDS   bound of each wait (default 60)
# Prints the kubeconfig path on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
R=${KUBE_RUN_DIR:?set KUBE_RUN_DIR}
B=${KUBE_BIN:-$HOME/.cache/storefront/parts/kube-v1.37.2-etcd-v3.6.16-kwok-v0.8.0}
ETCD_PORT=${ETCD_PORT:-2379}
ETCD_PEER_PORT=${ETCD_PEER_PORT:-2380}
APISERVER_PORT=${APISERVER_PORT:-6443}
KCM_PORT=${KCM_PORT:-10257}
SCHEDULER_PORT=${SCHEDULER_PORT:-10259}
KWOK_PORT=${KWOK_PORT:-10255}
PV_COUNT=${PV_COUNT:-100}
WAIT_SECONDS=${WAIT_SECONDS:-60}

for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwok-stages.yaml; do
  if [ ! -e "$B/$b" ]; then
    echo "error: $B/$b is missing; build the control plane with: local/kube/build.sh $B" >&2
    exit 2
  fi
done

mkdir -p "$R/run" "$R/logs" "$R/volumes"
# A failed start leaves nothing running.
trap 'status=$?; [ $status -ne 0 ] && KUBE_RUN_DIR="$R" "$here/down.sh"; exit $status' EXIT
P=$R/pki
K=$R/admin.kubeconfig
"$here/pki.sh" "$P"
cat > "$K" <<X
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:$APISERVER_PORT", certificate-authority: "$P/ca.crt"}
users:
- name: admin
  user: {client-certificate: "$P/admin.crt", client-key: "$P/admin.key"}
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
X

t0=$(date +%s%N)
elapsed() { echo "$(( ($(date +%s%N) - t0) / 1000000 )) ms"; }

# wait_for NAME COMMAND...: runs COMMAND until it succeeds, failing if NAME's process exits or
# WAIT_SECONDS pass.
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

# start NAME COMMAND...: starts a process in the background, its pid in run/NAME.pid.
start() {
  local name=$1; shift
  if [ -f "$R/run/$name.pid" ] && kill -0 "$(cat "$R/run/$name.pid")" 2>/dev/null; then
    echo "error: $name is already running (pid $(cat "$R/run/$name.pid")); run down.sh first" >&2
    exit 1
  fi
  "$@" </dev/null >"$R/logs/$name.log" 2>&1 &
  echo $! > "$R/run/$name.pid"
}

start etcd "$B/etcd" --name local --data-dir "$R/etcd-data" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "local=http://127.0.0.1:$ETCD_PEER_PORT" --log-level=warn --unsafe-no-fsync
wait_for etcd curl -sf --max-time 1 "http://127.0.0.1:$ETCD_PORT/health"
echo "etcd healthy after $(elapsed)"

start apiserver "$B/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
  --endpoint-reconciler-type=none \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
  --client-ca-file="$P/ca.crt" \
  --kubelet-client-certificate="$P/admin.crt" --kubelet-client-key="$P/admin.key" \
  --kubelet-preferred-address-types=InternalIP,Hostname \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range=10.0.0.0/16 \
  --authorization-mode=Node,RBAC --allow-privileged=true --profiling=false
wait_for apiserver sh -c "curl -sk --max-time 1 https://127.0.0.1:$APISERVER_PORT/readyz | grep -q '^ok'"
echo "apiserver ready after $(elapsed)"

common=(--kubeconfig="$K" --authentication-kubeconfig="$K" --authorization-kubeconfig="$K"
  --bind-address=127.0.0.1 --leader-elect=false)
start kcm "$B/kube-controller-manager" "${common[@]}" --secure-port="$KCM_PORT" --controllers='*' \
  --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
  --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key" \
  --use-service-account-credentials=true --kube-api-qps=300 --kube-api-burst=600
start scheduler "$B/kube-scheduler" "${common[@]}" --secure-port="$SCHEDULER_PORT"
# kwok-unready-stage.yaml: pods of an image tagged *-unready never become Ready (failed rollouts).
start kwok "$B/kwok" --kubeconfig="$K" --config="$B/kwok-stages.yaml" \
  --config="$here/kwok-unready-stage.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --node-lease-duration-seconds=40 --server-address="127.0.0.1:$KWOK_PORT"

kubectl() { "$B/kubectl" --kubeconfig="$K" "$@"; }
wait_for kwok kubectl apply -f "$here/node.yaml"
wait_for kwok kubectl wait --for=condition=Ready node/kwok-node-0 --timeout=2s
echo "node Ready after $(elapsed)"
wait_for kcm kubectl get serviceaccount default -n default
echo "default ServiceAccount present after $(elapsed)"

# hostPath volumes for StatefulSet claims without a storage class.
for i in $(seq 0 $((PV_COUNT - 1))); do
  cat <<X
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-pv-$i
  labels: {app.kubernetes.io/part-of: storefront-local-cluster}
spec:
  capacity: {storage: 100Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: "$R/volumes/pv-$i", type: DirectoryOrCreate}
X
done > "$R/volumes.yaml"
if [ "$PV_COUNT" -gt 0 ]; then
  kubectl apply -f "$R/volumes.yaml" >/dev/null
fi
echo "$PV_COUNT PersistentVolumes created after $(elapsed)"
echo "$K"
