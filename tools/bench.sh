#!/usr/bin/env bash
# The performance benchmark of issue 10 (see docs/performance.md): generates the synthetic
# GitOps trees and the 1,000-node intent, times `talhorn lint` against `yamllint -d relaxed` on
# the same trees (interleaved, run by run), and prints the ratios.
#
#   tools/bench.sh            # everything (a few minutes: yamllint is slow on 10,000 files)
#   RUNS=3 tools/bench.sh     # counted runs per figure (default 5; the 10,000-file pair uses
#                             # at most 3 because yamllint takes ~30 s a run there)
#   SIZES="2000" tools/bench.sh
#
# Needs: cargo and python3 on Linux (a venv with yamllint is made under target/bench/; the
# one-core/two-core figure keeps each lint to its CPUs with sched_setaffinity, as taskset
# does, without its exec); offline once the venv exists. The timing is
# tools/bench_timing.py: every figure is the median of the counted runs after one warm-up;
# CPU is user + system time of the whole process, peak memory its maximum resident set.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-$root/target/bench}
runs=${RUNS:-5}
sizes=${SIZES:-"2000 10000"}
yamllint_version=1.38.0
mkdir -p "$work"
cd "$root"

cargo build --release --quiet --bin talhorn
talhorn=$root/target/release/talhorn
# The generator only needs std: compiled on its own, not as a cargo example (which would build
# the dev-dependencies in release first).
synthetic=$work/synthetic
rustc --edition 2024 -O "$root/tools/synthetic.rs" -o "$synthetic"

if [ ! -x "$work/venv/bin/yamllint" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet "yamllint==$yamllint_version"
fi
yamllint=$work/venv/bin/yamllint

for size in $sizes; do
  rm -rf "$work/tree-$size" "$work/one-$size"
  "$synthetic" tree "$work/tree-$size" "$size"
  "$synthetic" one "$work/one-$size" "$size"
done
rm -rf "$work/intent" && mkdir -p "$work/intent"
"$synthetic" intent "$work/intent/cluster.yaml" 1000
one_file=$work/tree-${sizes%% *}/clusters/c000/talos/nodes/c000-w-3.yaml

TALHORN_BIN=$talhorn YAMLLINT=$yamllint WORK=$work RUNS=$runs SIZES=$sizes ONE_FILE=$one_file \
  ONE_INTENT=$root/examples/homelab.yaml \
  exec python3 "$root/tools/bench_timing.py"
