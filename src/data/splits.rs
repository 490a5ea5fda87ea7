//! Train/test(/val) splits: MS-TCN `splits/{train,test}.splitK.bundle` and DARai
//! `splits/{train,val,test}_split.txt`. Both list one `<video>.txt` per line.

use std::path::Path;

use super::error::{DataError, Result};
use super::lines::{quote, read_lines};

/// The split name of a checkpoint trained on every video of the dataset (`train --split all`).
pub const ALL_VIDEOS: &str = "all";

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Split {
    /// "1", "2", … for MS-TCN bundles; "1" for DARai's single split.
    pub name: String,
    pub train: Vec<String>,
    pub val: Vec<String>,
    pub test: Vec<String>,
}

/// Reads a split list and returns video names (the file names without `.txt`). Blank lines are
/// skipped; names may contain spaces (DARai's do), so only the line's ends are trimmed.
pub fn read_list(path: &Path) -> Result<Vec<String>> {
    let mut videos = Vec::new();
    for (i, line) in read_lines(path)?.iter().enumerate() {
        let entry = line.trim();
        if entry.is_empty() {
            continue;
        }
        if entry.contains('/') || entry.contains('\\') {
            return Err(DataError::line(path, i + 1, "a file name without folders", quote(entry)));
        }
        let name = entry.strip_suffix(".txt").unwrap_or(entry);
        if name.is_empty() {
            return Err(DataError::line(path, i + 1, "a video file name", quote(entry)));
        }
        videos.push(name.to_owned());
    }
    if videos.is_empty() {
        return Err(DataError::file(path, "one video per line", "no videos"));
    }
    Ok(videos)
}

/// Finds the MS-TCN splits in `dir`: every `train.split<K>.bundle` paired with its
/// `test.split<K>.bundle`, sorted by K.
pub fn read_mstcn_splits(dir: &Path) -> Result<Vec<Split>> {
    let mut ks: Vec<u32> = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| DataError::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(k) = name.strip_prefix("train.split").and_then(|r| r.strip_suffix(".bundle")) {
            let k: u32 = k.parse().map_err(|_| {
                DataError::file(dir.join(name), "a name train.split<number>.bundle", quote(name))
            })?;
            ks.push(k);
        }
    }
    if ks.is_empty() {
        return Err(DataError::file(dir, "train.split<K>.bundle files", "none"));
    }
    ks.sort_unstable();
    ks.into_iter()
        .map(|k| {
            let test = dir.join(format!("test.split{k}.bundle"));
            if !test.exists() {
                return Err(DataError::file(
                    &test,
                    format!("the test list of split {k}"),
                    "no such file",
                ));
            }
            Ok(Split {
                name: k.to_string(),
                train: read_list(&dir.join(format!("train.split{k}.bundle")))?,
                val: Vec::new(),
                test: read_list(&test)?,
            })
        })
        .collect()
}

/// DARai's single split with a validation list.
pub fn read_darai_split(dir: &Path) -> Result<Split> {
    Ok(Split {
        name: "1".to_owned(),
        train: read_list(&dir.join("train_split.txt"))?,
        val: read_list(&dir.join("val_split.txt"))?,
        test: read_list(&dir.join("test_split.txt"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_keep_spaces_and_drop_txt() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("test_split.txt");
        std::fs::write(
            &p,
            "16_3_camera_2_fps_15_Using handheld smart devices.txt\n\nP03_cereals.txt  \r\n",
        )
        .unwrap();
        assert_eq!(
            read_list(&p).unwrap(),
            vec!["16_3_camera_2_fps_15_Using handheld smart devices", "P03_cereals"]
        );
        std::fs::write(&p, "\n").unwrap();
        assert!(
            read_list(&p)
                .unwrap_err()
                .to_string()
                .ends_with("expected one video per line, found no videos")
        );
        std::fs::write(&p, "a.txt\n../b.txt\n").unwrap();
        assert!(
            read_list(&p)
                .unwrap_err()
                .to_string()
                .contains(":2: expected a file name without folders")
        );
    }

    #[test]
    fn mstcn_splits_need_both_lists() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("train.split2.bundle"), "a.txt\n").unwrap();
        std::fs::write(dir.path().join("test.split2.bundle"), "b.txt\n").unwrap();
        std::fs::write(dir.path().join("train.split1.bundle"), "a.txt\n").unwrap();
        let e = read_mstcn_splits(dir.path()).unwrap_err().to_string();
        assert!(e.contains("test.split1.bundle: expected the test list of split 1"), "{e}");
        std::fs::write(dir.path().join("test.split1.bundle"), "c.txt\n").unwrap();
        let s = read_mstcn_splits(dir.path()).unwrap();
        assert_eq!(s.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(s[0].test, vec!["c"]);
    }
}
