//! A folder linted in pieces, so that the lint's memory does not grow with the repository.
//!
//! A lint of one folder holds a record of every file it reads (its path, what it was read as,
//! its place in the source map) until the report: about 0.2 KB a file. Most of a large
//! repository's files sit in cluster folders (`clusters/<name>/`, a folder a `clusters:` glob
//! names, a folder with its own `.talhorn.yaml`, `talconfig.yaml`, Terraform lock file or
//! variables file) whose files belong to clusters rooted in them, whatever the rest of the
//! repository holds. So the walk sets those folders apart ([`ingest::discover_apart`]); the
//! rest of the repository is linted first, then the folders set apart, a few at a time
//! ([`Pieces`]), each piece's records freed as the next is walked. The folders go in the
//! order their paths are shown in the report, so each piece's findings come after every
//! earlier piece's, and only the rest's findings wait to be merged in.
//!
//! A piece gives the findings the whole lint would give only when it needs nothing outside
//! it ([`ingest::Ingested::self_contained`]) and every file in it is under one of its cluster
//! roots (a `.git` between a file and its cluster folder makes it part of the repository's
//! own cluster). A piece that does not is [`Entangled`]: the caller lints the folder whole
//! instead.

use super::{LintOutcome, lint_discovered};
use crate::ingest::{self, Discovered, SetApart};
use crate::rules::LintConfig;
use std::path::{Path, PathBuf};

/// About how many files a piece holds (the `piece_files` of a lint's [`walk`]): few enough
/// that a piece's records stay small (about 0.2 KB a file), enough that the workers' waits
/// between a piece's stages stay few (pieces of 1,024 files cost 7 % more CPU than one piece
/// at 10,000 files, pieces of 2,048 none that could be told from the noise). A piece takes
/// whole folders, so one large cluster folder is one large piece.
pub const PIECE_FILES: usize = 2048;

/// A folder's walk, with its cluster folders set apart.
pub struct Apart {
    rest: Discovered,
    pieces: Pieces,
}

/// The folders set apart, linted a piece at a time, in report order.
pub struct Pieces {
    /// The walked folder.
    root: PathBuf,
    config: LintConfig,
    /// The folders still to lint, in the order the report shows their paths.
    folders: std::vec::IntoIter<SetApart>,
    /// About how many files a piece holds ([`PIECE_FILES`]).
    piece_files: usize,
    /// Files and folders walked so far, to size the next piece.
    files_walked: usize,
    folders_walked: usize,
}

/// A piece needed files outside it, or met an error whose place in the whole lint's order it
/// cannot tell: lint the folder whole.
#[derive(Debug)]
pub struct Entangled;

/// Walks `root`, setting its cluster folders apart ([`ingest::RootsByName`]), to be linted
/// about `piece_files` files at a time. A folder whose path is not UTF-8 stays in the rest:
/// the report shows such paths lossily, so its order among the others is not its path's.
pub fn walk(
    root: &Path,
    config: &LintConfig,
    piece_files: usize,
) -> Result<Apart, ingest::IngestError> {
    let roots = ingest::RootsByName::new(config);
    let apart = |dir: &Path, listing: &crate::source::Listing| {
        dir.to_str().is_some() && roots.is_root(dir, listing)
    };
    let mut rest = ingest::discover_apart(root, config, &apart)?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut folders = std::mem::take(&mut rest.set_apart);
    // `a-b/` before `a/`: the report compares the paths it shows as strings.
    folders.sort_by_cached_key(|folder| crate::source::display_path(&folder.folder, &cwd) + "/");
    Ok(Apart {
        rest,
        pieces: Pieces {
            root: root.to_path_buf(),
            config: config.clone(),
            folders: folders.into_iter(),
            piece_files,
            files_walked: 0,
            folders_walked: 0,
        },
    })
}

impl Apart {
    /// Whether any folder was set apart (otherwise the rest is the whole folder).
    pub fn has_pieces(&self) -> bool {
        self.pieces.folders.len() > 0
    }

    /// Lints the rest of the folder (all of it when nothing was set apart), and hands back the
    /// pieces still to lint. The rest may hold the repository's own cluster, but must need
    /// nothing from the folders set apart.
    pub fn lint_rest(self) -> Result<(LintOutcome, Pieces), Entangled> {
        let set_apart = self.has_pieces();
        let rest =
            lint_discovered(self.rest, None, &self.pieces.config, false).map_err(|_| Entangled)?;
        if set_apart && !rest.self_contained {
            return Err(Entangled);
        }
        Ok((rest, self.pieces))
    }
}

impl Iterator for Pieces {
    type Item = Result<LintOutcome, Entangled>;

    fn next(&mut self) -> Option<Self::Item> {
        let discovered = self.walk_next_piece()?;
        let piece = lint_discovered(discovered, None, &self.config, false);
        Some(match piece {
            Ok(piece) if piece.self_contained && !piece.unrooted_files => Ok(piece),
            _ => Err(Entangled),
        })
    }
}

impl Pieces {
    /// Whether every folder set apart is in a piece already given: the piece last given was
    /// the last one.
    pub fn is_done(&self) -> bool {
        self.folders.len() == 0
    }

    /// Walks the folders of the next piece: about `piece_files` files, a folder at least.
    /// The folders are walked in batches sized by the files per folder walked so far (one
    /// folder to begin with), until the next batch would have no folder; `None` when every
    /// folder is linted.
    fn walk_next_piece(&mut self) -> Option<Discovered> {
        let mut walks = Vec::new();
        let mut files = 0;
        loop {
            let count = self.next_batch_folders(files);
            let batch: Vec<SetApart> = self.folders.by_ref().take(count).collect();
            if batch.is_empty() {
                break;
            }
            let walked = ingest::discover_set_apart(&self.root, &batch, &self.config);
            files += walked.files.len();
            self.files_walked += walked.files.len();
            self.folders_walked += batch.len();
            walks.push(walked);
        }
        (!walks.is_empty()).then(|| Discovered::joined(walks))
    }

    /// How many more folders the piece holding `files` so far takes: as many as make up the
    /// rest of `piece_files` at the files per folder walked so far (one folder first, and
    /// always one in a piece that has none yet).
    fn next_batch_folders(&self, files: usize) -> usize {
        if self.folders_walked == 0 {
            return 1;
        }
        let per_folder = self.files_walked.div_ceil(self.folders_walked).max(1);
        let more = self.piece_files.saturating_sub(files) / per_folder;
        if files == 0 { more.max(1) } else { more }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::synthetic_tree;

    fn config(root: &Path) -> LintConfig {
        LintConfig {
            root: root.to_path_buf(),
            ..LintConfig::default()
        }
    }

    /// Every cluster folder is set apart, in the report's order, and the pieces grow to about
    /// [`PIECE_FILES`] files once the files per folder are known.
    #[test]
    fn cluster_folders_are_set_apart_and_linted_in_pieces_of_about_two_thousand_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        synthetic_tree::write_tree(root, 2_500).expect("tree written");
        std::fs::rename(root.join("clusters/c024"), root.join("clusters/c000-x")).expect("renamed");
        // A talconfig makes its folder a root by its name; a layer folder never is one, and a
        // Terraform root module known by its text is not set apart.
        for marker in [
            "sites/prod/talconfig.yaml",
            "sites/edge/.terraform.lock.hcl",
            "sites/modules/net/terraform.tfvars",
            "lab/talos/talconfig.yaml",
            "tf/main.tf",
        ] {
            let path = root.join(marker);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "provider \"proxmox\" {}\n").unwrap();
        }
        let config = config(root);
        let apart = walk(root, &config, PIECE_FILES).expect("walked");
        let shown: Vec<String> = apart
            .pieces
            .folders
            .as_slice()
            .iter()
            .map(|folder| {
                folder
                    .folder
                    .strip_prefix(root)
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        let mut expected: Vec<String> = (0..24).map(|c| format!("clusters/c{c:03}")).collect();
        expected.insert(0, "clusters/c000-x".into());
        expected.extend(["sites/edge".into(), "sites/prod".into()]);
        assert_eq!(shown, expected);
        let rest: Vec<&Path> = apart
            .rest
            .files
            .iter()
            .map(|file| file.strip_prefix(root).unwrap())
            .collect();
        let markers = [
            "lab/talos/talconfig.yaml",
            "sites/modules/net/terraform.tfvars",
            "tf/main.tf",
        ];
        assert_eq!(rest, markers.map(Path::new));
        let (_, pieces) = apart.lint_rest().expect("the rest is linted");
        let clusters: Vec<usize> = pieces
            .map(|piece| piece.expect("self-contained").clusters.len())
            .collect();
        // The first piece is full: one folder walked, then as many as make about 2,048 files
        // at its 100 files. The last: five cluster folders, `sites/prod` and `sites/edge`
        // (whose lock file is no file talhorn reads, so no cluster).
        assert_eq!(clusters, [20, 6]);
    }
}
