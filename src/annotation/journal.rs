//! The journal beside an annotation file (`<file>.journal`): one JSON line per committed change,
//! appended and synced before the change counts as done. Its first line names the sha256 of the
//! annotation file it applies to, so that after a save (new file, new journal) a journal left from
//! before is recognised as already saved and never replayed twice.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Annotation, Edit, History};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JournalEntry {
    Edit {
        edit: Edit,
    },
    /// The whole annotation after an undo or redo: undo can reach back before the last save, so
    /// it is journaled as its result, not as an operation.
    Set {
        annotation: Annotation,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    journal: u32,
    base_sha256: String,
}

pub struct Journal {
    path: PathBuf,
    file: std::fs::File,
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl Journal {
    pub fn path_for(annotation: &Path) -> PathBuf {
        let mut name = annotation.file_name().unwrap_or_default().to_owned();
        name.push(".journal");
        annotation.with_file_name(name)
    }

    /// Starts an empty journal for the annotation file whose bytes are `base` (replacing an
    /// older journal atomically).
    pub fn start(annotation: &Path, base: &[u8]) -> std::io::Result<Self> {
        let path = Self::path_for(annotation);
        let mut header = serde_json::to_vec(&Header { journal: 1, base_sha256: sha256(base) })
            .expect("header serialises");
        header.push(b'\n');
        crate::fsutil::write_atomic(&path, &header)?;
        let file = std::fs::OpenOptions::new().append(true).open(&path)?;
        Ok(Journal { path, file })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A journal on a full disk: every append fails with ENOSPC (/dev/full).
    #[cfg(test)]
    pub(crate) fn on_full_disk(path: &Path) -> Self {
        Journal {
            path: path.to_owned(),
            file: std::fs::OpenOptions::new().append(true).open("/dev/full").expect("/dev/full"),
        }
    }

    /// Appends one entry and syncs it to disk.
    pub fn append(&mut self, entry: &JournalEntry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry).expect("entries serialise");
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }
}

/// What opening an annotation found in its journal.
#[derive(Debug)]
pub struct Recovered {
    pub annotation: Annotation,
    pub history: History,
    /// Changes replayed from the journal.
    pub replayed: usize,
    /// Why a journal was not replayed (already saved, unreadable), if there was one.
    pub note: Option<String>,
}

/// Replays the journal beside `annotation_path` (if any, and if it applies to `base`, the file's
/// bytes) onto `doc`, the file as parsed. A torn last line (a crash mid-append) is ignored: that
/// change was never reported done.
pub fn recover(annotation_path: &Path, base: &[u8], mut doc: Annotation) -> Recovered {
    let path = Journal::path_for(annotation_path);
    let mut history = History::default();
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Recovered { annotation: doc, history, replayed: 0, note: None };
    };
    let mut lines = text.split_inclusive('\n');
    let header: Option<Header> = lines.next().and_then(|l| serde_json::from_str(l.trim_end()).ok());
    match header {
        Some(h) if h.base_sha256 == sha256(base) => {}
        Some(_) => {
            return Recovered {
                annotation: doc,
                history,
                replayed: 0,
                note: Some(format!(
                    "{}: older than the saved file (its changes are saved); ignored",
                    path.display()
                )),
            };
        }
        None => {
            return Recovered {
                annotation: doc,
                history,
                replayed: 0,
                note: Some(format!("{}: no readable header; ignored", path.display())),
            };
        }
    }
    let mut replayed = 0;
    let mut note = None;
    for (i, line) in lines.enumerate() {
        if !line.ends_with('\n') {
            note = Some(format!(
                "{}: line {} was cut short by a crash (that change was never reported done)",
                path.display(),
                i + 2
            ));
            break;
        }
        match serde_json::from_str::<JournalEntry>(line.trim_end()) {
            Ok(JournalEntry::Edit { edit }) => {
                if let Err(e) = history.apply(&mut doc, edit) {
                    note = Some(format!(
                        "{}: line {}: {e}; replay stopped there",
                        path.display(),
                        i + 2
                    ));
                    break;
                }
            }
            Ok(JournalEntry::Set { annotation }) => {
                history = History::default();
                doc = annotation;
            }
            Err(e) => {
                note =
                    Some(format!("{}: line {}: {e}; replay stopped there", path.display(), i + 2));
                break;
            }
        }
        replayed += 1;
    }
    Recovered { annotation: doc, history, replayed, note }
}
