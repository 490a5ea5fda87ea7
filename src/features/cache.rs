//! Where features of a video are kept between sessions, and when they can be reused: the
//! viewer's background extraction and `train --from-annotations` read them back instead of
//! extracting again.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{Backbone, FeatureError};
use crate::data::features::FeatureSidecar;

/// Features on disk are reused when their sidecar names the same weights and stride (and, when
/// given, the same number of video frames).
pub fn is_cached(npy: &Path, weights_sha256: &str, stride: usize, frames: Option<usize>) -> bool {
    let Ok(bytes) = std::fs::read(FeatureSidecar::path_for(npy)) else {
        return false;
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else { return false };
    npy.is_file()
        && v["weights_sha256"].as_str() == Some(weights_sha256)
        && v["stride"].as_u64() == Some(stride as u64)
        && frames.is_none_or(|f| v["video_frames"].as_u64() == Some(f as u64))
}

/// A fingerprint of a video file's contents (its size and first and last MiB), so that the same
/// video finds its features again wherever it is opened from (the demo is unpacked into a new
/// temporary folder each time), and another video of the same name does not.
pub fn fingerprint(video: &Path) -> Result<String, FeatureError> {
    use sha2::{Digest, Sha256};
    let io = |error| FeatureError::Io { path: video.to_owned(), error };
    let mut f = std::fs::File::open(video).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    let mut hasher = Sha256::new();
    hasher.update(size.to_le_bytes());
    let mut buf = vec![0u8; 1 << 20];
    for start in [0, size.saturating_sub(buf.len() as u64)] {
        f.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut filled = 0;
        loop {
            let n = f.read(&mut buf[filled..]).map_err(io)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        hasher.update(&buf[..filled]);
    }
    Ok(hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect())
}

/// The cache folder of `video`'s features from `backbone`: `<cache>/features/<backbone>/<fingerprint>/`.
pub fn folder_for(cache: &Path, video: &Path, backbone: Backbone) -> Result<PathBuf, FeatureError> {
    Ok(cache.join("features").join(backbone.name()).join(fingerprint(video)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_the_contents_not_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) =
            (dir.path().join("a.mp4"), dir.path().join("b.mp4"), dir.path().join("c.mp4"));
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&a, &bytes).unwrap();
        std::fs::write(&b, &bytes).unwrap();
        let mut changed = bytes.clone();
        *changed.last_mut().unwrap() ^= 1;
        std::fs::write(&c, &changed).unwrap();
        assert_eq!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
        assert_ne!(fingerprint(&a).unwrap(), fingerprint(&c).unwrap());
        // a file shorter than the two windows
        std::fs::write(&c, b"tiny").unwrap();
        assert_eq!(fingerprint(&c).unwrap().len(), 16);
    }

    #[test]
    fn cached_features_need_the_same_weights_and_stride() {
        let dir = tempfile::tempdir().unwrap();
        let npy = dir.path().join("v.npy");
        std::fs::write(&npy, b"x").unwrap();
        std::fs::write(
            FeatureSidecar::path_for(&npy),
            r#"{"weights_sha256": "abc", "stride": 15, "video_frames": 300}"#,
        )
        .unwrap();
        assert!(is_cached(&npy, "abc", 15, None));
        assert!(is_cached(&npy, "abc", 15, Some(300)));
        assert!(!is_cached(&npy, "abc", 15, Some(299)));
        assert!(!is_cached(&npy, "abd", 15, None));
        assert!(!is_cached(&npy, "abc", 1, None));
        std::fs::remove_file(&npy).unwrap();
        assert!(!is_cached(&npy, "abc", 15, None));
    }
}
