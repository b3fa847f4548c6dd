#!/usr/bin/env bash
# Builds the local Kubernetes control plane into $1: kube-apiserver, kube-controller-manager,
# kube-scheduler and kubectl from k8s.io/kubernetes (pinned in go.mod), etcd (../etcd) and kwok.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../go-env.sh"
out=${1:?usage: build.sh OUT_DIR}
mkdir -p "$out"

kube_version=$(cd "$here" && go list -m -f "{{.Version}}" k8s.io/kubernetes)
minor=$(echo "$kube_version" | cut -d. -f2)
ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld="$ld -X $p.gitVersion=$kube_version -X $p.gitMajor=1 -X $p.gitMinor=$minor"
  ld="$ld -X $p.gitTreeState=clean -X $p.buildDate=2026-01-01T00:00:00Z"
done
cd "$here"
go build -trimpath -ldflags="$ld" -o "$out/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl

cd "$here/../etcd"
go build -trimpath -ldflags="-s -w" -o "$out/etcd" .

kwok_version=$(cat "$here/kwok.version")
GOBIN="$out" go install -trimpath -ldflags="-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok_version"
# kwok needs its stages as a config file; they ship in its module.
stages="$GOMODCACHE/sigs.k8s.io/kwok@$kwok_version/kustomize/stage"
for s in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
  echo "---"; cat "$stages/$s"
done > "$out/kwok-stages.yaml"
