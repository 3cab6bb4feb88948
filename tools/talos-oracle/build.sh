#!/usr/bin/env bash
# Builds the Talos oracle once per supported Talos minor: talos-oracle-v1.<minor> in the
# directory given as $1 (default: target/talos-oracle under the repository root).
# Needs Go >= 1.26 and the Go module proxy (GOPROXY) for the first build; later builds come
# from Go's caches. Each v1.<minor>.mod pins one github.com/siderolabs/talos/pkg/machinery.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../../target/talos-oracle}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$here"
for modfile in v1.*.mod; do
    minor="${modfile%.mod}"
    go build -trimpath -modfile="$modfile" -o "$out/talos-oracle-$minor" .
    echo "built $out/talos-oracle-$minor ($(grep -o 'machinery v[^ ]*' "$modfile"))"
done
