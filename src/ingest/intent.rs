//! An intent file found in the repository: loaded, validated and lowered into the model.

use crate::model::Cluster;
use crate::source::FileId;

/// Lowers an intent into `cluster` with its semantic errors; one that cannot be typed adds its
/// findings instead.
pub fn read(cluster: &mut Cluster, file: FileId, text: &str) {
    match crate::intent::load_all(file, text) {
        Ok((loaded, errors)) => {
            // Semantic errors do not stop the rules: every independent problem in one run.
            cluster.load_findings.extend(errors);
            crate::lower::lower_intent(&loaded, cluster);
        }
        Err(findings) => cluster.load_findings.extend(findings),
    }
}
