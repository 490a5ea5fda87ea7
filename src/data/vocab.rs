//! Class vocabularies: `mapping.txt` files of `<id> <name>` lines.

use std::collections::HashMap;
use std::path::Path;

use super::error::{DataError, Result};
use super::lines::{quote, read_lines};

/// An ordered list of class names; a class's id is its position.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    names: Vec<String>,
    index: HashMap<String, u32>,
    /// Where the names came from, for messages ("the mapping file", "the checkpoint's
    /// vocabulary"); not part of equality.
    origin: &'static str,
}

impl PartialEq for Vocabulary {
    fn eq(&self, other: &Self) -> bool {
        self.names == other.names
    }
}

impl Eq for Vocabulary {}

impl Vocabulary {
    pub fn from_names<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        let index = names.iter().enumerate().map(|(i, n)| (n.clone(), i as u32)).collect();
        Vocabulary { names, index, origin: "the vocabulary" }
    }

    /// Reads a mapping file. Ids must be 0, 1, 2, … in order; any run of spaces or tabs separates
    /// the id from the name and trailing blanks are ignored (DARai's `mapping_l2_changed.txt` has
    /// both). Blank lines are skipped.
    pub fn read(path: &Path) -> Result<Self> {
        let lines = read_lines(path)?;
        let mut names = Vec::new();
        for (i, raw) in lines.iter().enumerate() {
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let (id, name) = line
                .split_once(|c: char| c.is_whitespace())
                .map(|(id, name)| (id, name.trim()))
                .ok_or_else(|| DataError::line(path, i + 1, "'<id> <name>'", quote(raw)))?;
            let id: usize = id
                .parse()
                .map_err(|_| DataError::line(path, i + 1, "an integer class id", quote(id)))?;
            if id != names.len() {
                return Err(DataError::line(
                    path,
                    i + 1,
                    format!("class id {}", names.len()),
                    format!("id {id}"),
                ));
            }
            if name.is_empty() {
                return Err(DataError::line(path, i + 1, "a class name after the id", "nothing"));
            }
            if names.iter().any(|n| n == name) {
                return Err(DataError::line(
                    path,
                    i + 1,
                    "a new class name",
                    format!("{} again", quote(name)),
                ));
            }
            names.push(name.to_owned());
        }
        if names.is_empty() {
            return Err(DataError::file(path, "at least one '<id> <name>' line", "none"));
        }
        Ok(Self::from_names(names).with_origin("the mapping file"))
    }

    /// Says where the names came from, in messages about labels outside them.
    pub fn with_origin(mut self, origin: &'static str) -> Self {
        self.origin = origin;
        self
    }

    /// Where the names came from ("the vocabulary" when nobody said).
    pub fn origin(&self) -> &'static str {
        if self.origin.is_empty() { "the vocabulary" } else { self.origin }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(String::as_str)
    }

    /// The id of `label`, compared exactly after trimming blanks, then with spaces read as
    /// underscores (DARai's label files write "Using handheld smart devices" for the mapping's
    /// `Using_handheld_smart_devices`).
    pub fn id(&self, label: &str) -> Option<u32> {
        let label = label.trim();
        self.index.get(label).copied().or_else(|| {
            label.contains(' ').then(|| self.index.get(&label.replace(' ', "_")).copied()).flatten()
        })
    }

    /// Appends a class (used when an annotator adds a label); returns its id.
    pub fn push(&mut self, name: &str) -> u32 {
        if let Some(id) = self.index.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), id);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(content: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(content).unwrap();
        f
    }

    #[test]
    fn reads_darai_style_double_spaces_and_trailing_blanks() {
        let f = write(b"0  Bake_pancake\n1  Throw_out_leftovers  \n2 Using_Tablet\r\n");
        let v = Vocabulary::read(f.path()).unwrap();
        assert_eq!(v.names(), ["Bake_pancake", "Throw_out_leftovers", "Using_Tablet"]);
        assert_eq!(v.id("Throw_out_leftovers"), Some(1));
        assert_eq!(v.id(" Using Tablet "), Some(2));
        assert_eq!(v.id("nope"), None);
    }

    #[test]
    fn rejects_bad_ids_with_line_numbers() {
        let f = write(b"0 a\n2 b\n");
        let e = Vocabulary::read(f.path()).unwrap_err().to_string();
        assert!(e.ends_with(":2: expected class id 1, found id 2"), "{e}");
        let f = write(b"0 a\nx b\n");
        assert!(
            Vocabulary::read(f.path())
                .unwrap_err()
                .to_string()
                .contains(":2: expected an integer class id")
        );
        let f = write(b"0 a\n1\n");
        assert!(
            Vocabulary::read(f.path())
                .unwrap_err()
                .to_string()
                .contains(":2: expected '<id> <name>'")
        );
        let f = write(b"0 a\n1 a\n");
        assert!(Vocabulary::read(f.path()).unwrap_err().to_string().contains("a new class name"));
        let f = write(b"");
        assert!(Vocabulary::read(f.path()).unwrap_err().to_string().contains("at least one"));
    }
}
