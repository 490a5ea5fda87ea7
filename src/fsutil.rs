//! File writes that never leave a torn file: write a temporary file beside the target, sync it,
//! rename it over the target, then sync the folder.

use std::io::Write;
use std::path::{Path, PathBuf};

fn temp_path_for(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp{}", std::process::id()))
}

/// Replaces `path` with `bytes` atomically: a reader sees the old file or the new one, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_path_for(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename itself durable; not every file system allows opening a folder.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates an output folder (and its parents); a file already at `path` is an error that says
/// so, rather than the system's "File exists".
pub fn create_output_dir(path: &Path) -> std::io::Result<()> {
    if path.exists() && !path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "a file is there: the output goes to a folder",
        ));
    }
    std::fs::create_dir_all(path)
}

/// Where mmant caches what it can recompute (frame indexes, features extracted by the viewer):
/// $MMANT_CACHE or ~/.cache/mmant.
pub fn cache_root() -> Option<PathBuf> {
    std::env::var_os("MMANT_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/mmant")))
}

/// Where `scripts/fetch-models` puts model weights: $MMANT_MODELS or ~/.cache/mmant/models.
pub fn models_root() -> PathBuf {
    std::env::var_os("MMANT_MODELS").map(PathBuf::from).unwrap_or_else(|| {
        let home =
            std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
        home.join(".cache/mmant/models")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_output_folder_where_a_file_is_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("results");
        std::fs::write(&file, b"x").unwrap();
        let e = create_output_dir(&file).unwrap_err().to_string();
        assert_eq!(e, "a file is there: the output goes to a folder");
        create_output_dir(&dir.path().join("a/b")).unwrap();
        assert!(dir.path().join("a/b").is_dir());
    }

    #[test]
    fn failure_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        write_atomic(&p, b"old").unwrap();
        // a folder where the temporary file goes: the write must fail before the target is touched
        std::fs::create_dir(temp_path_for(&p)).unwrap();
        assert!(write_atomic(&p, b"new").is_err(), "a write that cannot finish reports it");
        assert_eq!(std::fs::read(&p).unwrap(), b"old", "the old file is untouched");
        // and no target in a missing folder is ever created
        let missing = dir.path().join("missing-dir").join("out.csv");
        assert!(write_atomic(&missing, b"x").is_err());
    }
}
