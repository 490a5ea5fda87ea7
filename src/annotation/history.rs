//! Undo and redo of edits only (playback, zoom and selection are not history). A new edit drops
//! the redo branch. At least [`History::LIMIT`] steps are kept.

use super::{Annotation, Edit, EditError};

#[derive(Debug, Clone)]
struct Step {
    edit: Edit,
    /// The annotation before the edit; redo re-applies the edit to it (edits are deterministic).
    before: Annotation,
}

#[derive(Debug, Clone, Default)]
pub struct History {
    done: Vec<Step>,
    undone: Vec<Step>,
}

impl History {
    pub const LIMIT: usize = 500;

    /// Applies `edit` to `doc` and records it; a refused edit changes nothing.
    pub fn apply(&mut self, doc: &mut Annotation, edit: Edit) -> Result<(), EditError> {
        let before = doc.clone();
        doc.apply(&edit)?;
        self.done.push(Step { edit, before });
        self.undone.clear();
        if self.done.len() > Self::LIMIT {
            self.done.remove(0);
        }
        Ok(())
    }

    /// Undoes the last edit; returns it, or None when there is nothing to undo.
    pub fn undo(&mut self, doc: &mut Annotation) -> Option<Edit> {
        let step = self.done.pop()?;
        *doc = step.before.clone();
        let edit = step.edit.clone();
        self.undone.push(step);
        Some(edit)
    }

    pub fn redo(&mut self, doc: &mut Annotation) -> Option<Edit> {
        let step = self.undone.pop()?;
        doc.apply(&step.edit).expect("an edit that applied to this state applies again");
        let edit = step.edit.clone();
        self.done.push(step);
        Some(edit)
    }

    pub fn can_undo(&self) -> bool {
        !self.done.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.undone.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotation::tests::doc;

    #[test]
    fn undo_redo_and_a_new_edit_drops_the_redo_branch() {
        let mut d = doc(&[0; 10]);
        let mut h = History::default();
        let original = d.clone();
        for f in 1..=300 {
            let frame = 1 + f % 9;
            let _ = h.apply(
                &mut d,
                Edit::Relabel { level: 0, frame, label: ["a", "b", "c"][f % 3].into() },
            );
            let _ = h.apply(&mut d, Edit::Split { level: 0, frame });
        }
        let edited = d.clone();
        let mut n = 0;
        while h.undo(&mut d).is_some() {
            n += 1;
        }
        assert!(n >= 200, "{n} steps of undo");
        if n >= 600 {
            assert_eq!(d, original);
        }
        while h.redo(&mut d).is_some() {}
        assert_eq!(d, edited);
        h.undo(&mut d);
        h.apply(&mut d, Edit::Relabel { level: 0, frame: 0, label: "c".into() }).unwrap();
        assert!(!h.can_redo(), "a new edit drops the redo branch");
    }
}
