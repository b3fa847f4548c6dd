#!/usr/bin/env bash
# Builds OpenTofu (the version pinned in go.mod) from the Go module proxy into $1, for the check
# of deploy/terraform on machines without terraform or tofu.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../go-env.sh"
out=${1:?usage: build.sh OUT_DIR}
mkdir -p "$out"
cd "$here"
go build -trimpath -ldflags="-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$out/" \
  github.com/opentofu/opentofu/cmd/tofu
"$out/tofu" version
