#!/usr/bin/env bash
# Times `talhorn build` of a synthetic N-node intent (default 1000): into a fresh folder
# (durable writes included), `--check` on the result, and a rebuild with nothing to change.
# Prints the median wall time and CPU time of RUNS runs (default 7) of each.
#
# Usage: tools/time-build.sh [path/to/talhorn] [nodes] [runs]
# Needs: bash, GNU date and GNU time (/usr/bin/time), no network.
set -euo pipefail

bin="${1:-target/release/talhorn}"
nodes="${2:-1000}"
runs="${3:-7}"
work="$(mktemp -d "${TMPDIR:-/tmp}/talhorn-time-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The intent: three control planes, the rest workers, one Proxmox node (as benches/pipeline.rs).
{
    echo "cluster: { name: bench, endpoint: https://10.0.0.10:6443, vip: 10.0.0.10, talos: v1.11.6 }"
    echo "proxmox: { version: 9, node: pve1, storage: { local-lvm: { type: lvmthin } }, bridges: { vmbr0: { mtu: 9000 } } }"
    echo "network: { bridge: vmbr0, mtu: 9000, cidr: 10.0.0.0/16, gateway: 10.0.0.1, nameservers: [10.0.0.1] }"
    echo "talos: { extensions: [siderolabs/iscsi-tools, siderolabs/util-linux-tools] }"
    echo "longhorn: { version: 1.10.2, dataDisk: { size: 200G } }"
    echo "nodes:"
    for ((i = 0; i < nodes; i++)); do
        role=worker
        ((i < 3)) && role=controlplane
        echo "  - { name: n-$i, role: $role, vmid: $((1000 + i)), ip: 10.0.$((1 + i / 200)).$((10 + i % 200)) }"
    done
} >"$work/cluster.yaml"

# One run: prints "wall_ms cpu_ms".
run_once() {
    local start end cpu
    start=$(date +%s%N)
    /usr/bin/time -o "$work/cpu" -f '%U %S' "$bin" "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    cpu=$(tail -1 "$work/cpu")
    awk -v wall=$(((end - start) / 1000000)) -v cpu="$cpu" \
        'BEGIN { split(cpu, c, " "); printf "%d %d\n", wall, (c[1] + c[2]) * 1000 }'
}

median() {
    sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

report() {
    local label="$1" samples="$2"
    printf '%-34s wall %5s ms   cpu %5s ms\n' "$label" \
        "$(cut -d' ' -f1 <<<"$samples" | median)" "$(cut -d' ' -f2 <<<"$samples" | median)"
}

fresh="" check="" noop=""
for ((r = 0; r < runs; r++)); do
    rm -rf "$work/out"
    fresh+="$(run_once build "$work/cluster.yaml" -o "$work/out")"$'\n'
    check+="$(run_once build --check "$work/cluster.yaml" -o "$work/out")"$'\n'
    noop+="$(run_once build "$work/cluster.yaml" -o "$work/out")"$'\n'
done
echo "$nodes nodes, $(find "$work/out" -type f | wc -l) files, median of $runs runs ($bin)"
report "build into a fresh folder" "${fresh%$'\n'}"
report "build --check (up to date)" "${check%$'\n'}"
report "build (nothing to change)" "${noop%$'\n'}"
