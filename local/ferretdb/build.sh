#!/usr/bin/env bash
# Builds the FerretDB wrapper into $1 (a directory). Called by `cargo xtask` when the cached binary is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../go-env.sh"
out=${1:?usage: build.sh OUT_DIR}
mkdir -p "$out"
cd "$here"
go build -trimpath -ldflags="-s -w" -o "$out/ferretdb" .
