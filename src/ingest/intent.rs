//! An intent file found in the repository: loaded, validated and lowered into the model.

use crate::model::Cluster;
use crate::source::FileId;

/// Lowers a valid intent into `cluster`; an invalid one adds its findings instead.
pub fn read(cluster: &mut Cluster, file: FileId, text: &str) {
    match crate::intent::load(file, text) {
        Ok(loaded) => {
            crate::lower::lower_intent(&loaded, cluster);
        }
        Err(findings) => cluster.load_findings.extend(findings),
    }
}
