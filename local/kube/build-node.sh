#!/usr/bin/env bash
# Builds a real node's Kubernetes binaries into $1: kubelet and kube-proxy from k8s.io/kubernetes
# (pinned in go.mod, the same wrapper module as the control plane), CoreDNS (../coredns) and the
# sandbox ("pause") binary (../pause).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../go-env.sh"
out=${1:?usage: build-node.sh OUT_DIR}
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
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy

cd "$here/../coredns"
go build -trimpath -ldflags="-s -w" -o "$out/coredns" .

cd "$here/../pause"
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$out/pause" .
