//! An annotation being edited: the file, its journal, the undo history. Every change is applied,
//! then appended to the journal and synced; only then does `edit` return Ok (the caller shows it
//! as done). A journal that cannot be written undoes the change and says so.

use std::path::{Path, PathBuf};

use super::formats::{self, Format};
use super::journal::{self, Journal, JournalEntry};
use super::{Annotation, Clock, Edit, EditError, History};
use crate::data::Vocabulary;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Format(#[from] super::formats::FormatError),
    /// The annotation cannot be saved in its file's format.
    #[error("{}: an MS-TCN label file holds one level, this annotation has {levels}: save it as a segment CSV", path.display())]
    OneLevelFormat { path: PathBuf, levels: usize },
    #[error(transparent)]
    Edit(#[from] EditError),
    #[error("{}: {error}; the change was undone", path.display())]
    Journal { path: PathBuf, error: std::io::Error },
    #[error("{}: {error}; the file on disk is unchanged", path.display())]
    Save { path: PathBuf, error: std::io::Error },
    #[error("{}: {error}", path.display())]
    Read { path: PathBuf, error: std::io::Error },
}

pub struct Session {
    pub path: PathBuf,
    pub format: Format,
    /// Time ↔ frame for formats that count time (the segment CSV's seconds, ELAN).
    pub clock: Clock,
    pub doc: Annotation,
    history: History,
    journal: Journal,
    unsaved: usize,
}

impl Session {
    /// Opens an annotation file, replaying a journal left by a session that did not save.
    /// Returns the session and, when something was recovered or a journal was set aside, what.
    pub fn open(
        path: &Path,
        vocabularies: &[(String, Vocabulary)],
        strict: bool,
        clock: impl Into<Clock>,
    ) -> Result<(Session, Option<String>), SessionError> {
        let clock = clock.into();
        let bytes = std::fs::read(path)
            .map_err(|error| SessionError::Read { path: path.to_owned(), error })?;
        let opts = formats::ReadOptions {
            vocabularies,
            strict,
            clock: Some(clock.clone()),
            frames: clock.frames(),
            background: None,
        };
        let doc = formats::read_with(path, &bytes, &opts)?;
        let format = Format::detect(path, &bytes);
        let rec = journal::recover(path, &bytes, doc);
        let mut journal = Journal::start(path, &bytes)
            .map_err(|error| SessionError::Journal { path: Journal::path_for(path), error })?;
        let mut message = rec.note.clone();
        if rec.replayed > 0 {
            // keep the recovered state durable in the fresh journal until the user saves
            journal.append(&JournalEntry::Set { annotation: rec.annotation.clone() }).map_err(
                |error| SessionError::Journal { path: journal.path().to_owned(), error },
            )?;
            let m = format!(
                "recovered {} unsaved change{} from {}",
                rec.replayed,
                if rec.replayed == 1 { "" } else { "s" },
                Journal::path_for(path).display()
            );
            message = Some(match message {
                Some(n) => format!("{m} ({n})"),
                None => m,
            });
        }
        let unsaved = rec.replayed;
        Ok((
            Session {
                path: path.to_owned(),
                format,
                clock,
                doc: rec.annotation,
                history: rec.history,
                journal,
                unsaved,
            },
            message,
        ))
    }

    /// Applies an edit and journals it; Ok means it is on disk (in the journal).
    pub fn edit(&mut self, edit: Edit) -> Result<(), SessionError> {
        self.history.apply(&mut self.doc, edit.clone())?;
        if let Err(error) = self.journal.append(&JournalEntry::Edit { edit }) {
            self.history.undo(&mut self.doc);
            return Err(SessionError::Journal { path: self.journal.path().to_owned(), error });
        }
        self.unsaved += 1;
        Ok(())
    }

    fn journal_state(&mut self) -> Result<(), SessionError> {
        self.journal.append(&JournalEntry::Set { annotation: self.doc.clone() }).map_err(
            |error| SessionError::Journal { path: self.journal.path().to_owned(), error },
        )?;
        self.unsaved += 1;
        Ok(())
    }

    /// Undoes the last edit; false when there is none.
    pub fn undo(&mut self) -> Result<bool, SessionError> {
        if self.history.undo(&mut self.doc).is_none() {
            return Ok(false);
        }
        if let Err(e) = self.journal_state() {
            self.history.redo(&mut self.doc);
            return Err(e);
        }
        Ok(true)
    }

    pub fn redo(&mut self) -> Result<bool, SessionError> {
        if self.history.redo(&mut self.doc).is_none() {
            return Ok(false);
        }
        if let Err(e) = self.journal_state() {
            self.history.undo(&mut self.doc);
            return Err(e);
        }
        Ok(true)
    }

    /// Changes since the last save.
    pub fn unsaved(&self) -> usize {
        self.unsaved
    }

    /// Writes the file atomically (temporary file, sync, rename), then starts a new journal.
    /// An MS-TCN file holds one level: a session with more is saved with [`Session::save_as`].
    pub fn save(&mut self) -> Result<(), SessionError> {
        if self.format == Format::MsTcn && self.doc.levels.len() > 1 {
            return Err(SessionError::OneLevelFormat {
                path: self.path.clone(),
                levels: self.doc.levels.len(),
            });
        }
        let bytes = formats::write(&self.doc, self.format, &self.clock);
        crate::fsutil::write_atomic(&self.path, &bytes)
            .map_err(|error| SessionError::Save { path: self.path.clone(), error })?;
        self.journal = Journal::start(&self.path, &bytes).map_err(|error| {
            SessionError::Journal { path: Journal::path_for(&self.path), error }
        })?;
        self.unsaved = 0;
        Ok(())
    }

    pub fn save_as(&mut self, path: &Path, format: Format) -> Result<(), SessionError> {
        let (old_path, old_format) = (
            std::mem::replace(&mut self.path, path.to_owned()),
            std::mem::replace(&mut self.format, format),
        );
        let r = self.save();
        match &r {
            // the old file keeps what it had on disk; its unsaved edits went into the new file
            Ok(()) => drop(std::fs::remove_file(Journal::path_for(&old_path))),
            Err(_) => {
                self.path = old_path;
                self.format = old_format;
            }
        }
        r
    }
}

impl Drop for Session {
    /// A journal with nothing unsaved in it is not left beside the user's file.
    fn drop(&mut self) {
        if self.unsaved == 0 {
            let _ = std::fs::remove_file(self.journal.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_refuses_the_edit_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.txt");
        std::fs::write(&p, "a\na\nb\nb\n").unwrap();
        let (mut s, _) = Session::open(&p, &[], false, 15.0).unwrap();
        s.edit(Edit::Split { level: 0, frame: 1 }).unwrap();
        let before = s.doc.clone();
        s.journal = Journal::on_full_disk(&Journal::path_for(&p));
        let e = s
            .edit(Edit::Relabel { level: 0, frame: 3, label: "a".into() })
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("v.txt.journal")
                && e.contains("No space left on device")
                && e.contains("the change was undone"),
            "{e}"
        );
        assert_eq!(s.doc, before);
        assert!(s.undo().is_err(), "an undo that cannot be journaled is not done either");
        assert_eq!(s.doc, before);
        assert_eq!(s.unsaved(), 1);
    }
}
