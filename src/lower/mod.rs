//! Lowering an intent into the cluster model: defaults applied, recommendations chosen, every
//! fact located in the intent file.
//!
//! (being written)

use crate::intent::LoadedIntent;
use crate::model::Cluster;

/// Adds an intent's VMs, host, Talos, Longhorn and network facts to `cluster`.
pub fn lower(intent: &LoadedIntent, cluster: &mut Cluster) {
    let _ = (intent, cluster);
}
