//! Hash maps and sets for the keys a lint hashes thousands of times: paths, folder names,
//! option and node names.
//!
//! std's hasher (SipHash 1-3) costs about a thousand instructions for a long path; hashing took
//! 7 % of a 2,000-file lint's instructions (docs/performance.md, the tenth pass). foldhash is
//! several times faster and, like std's, seeded afresh in every process, so no input can be
//! built to collide on every machine; nothing may depend on the order a map iterates in.

use std::collections::{HashMap, HashSet};

/// A [`HashMap`] with foldhash's fast hasher.
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A [`HashSet`] with foldhash's fast hasher.
pub type FastSet<T> = HashSet<T, foldhash::fast::RandomState>;
