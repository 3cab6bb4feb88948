use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "PVE001",
    name: "cpu-lacks-x86-64-v2",
    layer: Layer::Proxmox,
    severity: Severity::Error,
    summary: "The VM's CPU type lacks x86-64-v2 (cpu absent = kvm64, or kvm64/qemu64/kvm32/qemu32).",
    docs: r#"## What
A Talos VM whose CPU type is below x86-64-v2: `cpu` absent (the backend default is `kvm64`),
or `kvm64`, `qemu64`, `kvm32`, `qemu32` — unless `args: -cpu …` adds the whole x86-64-v2 set
(`cx16`, `lahf_lm`, `popcnt`, `sse3`, `ssse3`, `sse4.1`, `sse4.2`).

## Why
Talos ≥ 1.0 requires the x86-64-v2 microarchitecture. On a v1-level CPU it boot-loops.
Longhorn's V2 engine additionally needs SSE4.2. `cpu: …,flags=+sse4.2` does not help: Proxmox
only allows a short list of flags there and rejects the rest.

## Example
```
cores: 4
memory: 8192
```
(no `cpu:` line: the VM runs as `kvm64`)

## Fix
`cpu: host` (fastest; no live migration across different CPUs) or `cpu: x86-64-v2-AES`
(migratable). On old PVE: `args: -cpu kvm64,+cx16,+lahf_lm,+popcnt,+sse3,+ssse3,+sse4.1,+sse4.2`.

## Source
Talos Proxmox guide (v1.11) "x86-64-v2"; siderolabs/talos#7202; Proxmox qm.adoc "CPU Type";
qemu-server `CPUConfig.pm` (default `kvm64`, allowed `flags`).
"#,
};

/// CPU models at the x86-64-v1 level.
const V1_MODELS: &[&str] = &["kvm64", "qemu64", "kvm32", "qemu32"];
/// What `args: -cpu …,+flag` must add to reach x86-64-v2.
const V2_FLAGS: &[&str] = &[
    "cx16", "lahf_lm", "popcnt", "sse3", "ssse3", "sse4.1", "sse4.2",
];

pub struct CpuLacksX8664V2;

/// Whether `args:` raises the CPU to x86-64-v2 with `-cpu <model>,+flag,...`.
fn args_add_v2(args: &str) -> bool {
    let Some(rest) = args.split_once("-cpu").map(|(_, r)| r.trim_start()) else {
        return false;
    };
    let spec = rest.split_whitespace().next().unwrap_or_default();
    let flags: Vec<&str> = spec
        .split(',')
        .filter_map(|f| f.strip_prefix('+'))
        .collect();
    V2_FLAGS.iter().all(|needed| {
        flags
            .iter()
            .any(|f| f.replace('-', "_") == needed.replace('-', "_"))
    })
}

impl Rule for CpuLacksX8664V2 {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for vm in cluster
            .vms
            .iter()
            .filter(|vm| !vm.any_unknown(&["cpu", "args"]))
        {
            if vm.args.as_ref().is_some_and(|a| args_add_v2(&a.value)) {
                continue;
            }
            match &vm.cpu {
                None => out.push(
                    META.finding(
                        vm.origin,
                        format!("{} sets no `cpu`, so Proxmox runs it as kvm64, which lacks x86-64-v2: Talos will not boot", vm.label()),
                    )
                    .help("add `cpu: host` (or `cpu: x86-64-v2-AES` to keep live migration)"),
                ),
                Some(cpu) if V1_MODELS.contains(&cpu.value.as_str()) => out.push(
                    META.finding(
                        cpu.at,
                        format!("CPU type `{}` lacks x86-64-v2, which Talos requires: the VM will boot-loop", cpu.value),
                    )
                    .help("use `cpu: host` or `cpu: x86-64-v2-AES`"),
                ),
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::args_add_v2;

    #[test]
    fn args_must_add_every_v2_flag() {
        assert!(args_add_v2(
            "-cpu kvm64,+cx16,+lahf_lm,+popcnt,+sse3,+ssse3,+sse4.1,+sse4.2"
        ));
        assert!(!args_add_v2("-cpu kvm64,+cx16,+popcnt"));
        assert!(!args_add_v2("-no-reboot"));
    }
}
