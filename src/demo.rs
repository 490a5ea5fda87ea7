//! The demo compiled into the binary (assets/demo): Breakfast's P06_cam01_P06_friedegg labels, a
//! synthetic video rendered from them (examples/render_breakfast.rs), a checkpoint that observes
//! the video's EfficientNet-Lite0 features (trained on the rendered Breakfast benchmark's other
//! participants) and the 8-epoch m&m-Ant checkpoint that observes labels.

use std::path::PathBuf;

/// The demo's files, unpacked into a temporary folder that lives as long as this value.
pub struct DemoFiles {
    pub dir: tempfile::TempDir,
    pub labels: PathBuf,
    pub mapping: PathBuf,
    /// The checkpoint that observes labels, `<folder>/model` (model.json + model.safetensors).
    pub model: PathBuf,
    /// The checkpoint that observes the video's features (the viewer extracts them).
    pub pixels_model: PathBuf,
    /// The synthetic video rendered from the labels (not the real Breakfast video).
    pub video: PathBuf,
}

const FILES: [(&str, &[u8]); 7] = [
    ("P06_cam01_P06_friedegg.txt", include_bytes!("../assets/demo/P06_cam01_P06_friedegg.txt")),
    ("P06_cam01_P06_friedegg.mp4", include_bytes!("../assets/demo/P06_cam01_P06_friedegg.mp4")),
    ("mapping.txt", include_bytes!("../assets/demo/mapping.txt")),
    ("model.json", include_bytes!("../assets/demo/model.json")),
    ("model.safetensors", include_bytes!("../assets/demo/model.safetensors")),
    ("from-pixels/model.json", include_bytes!("../assets/demo/from-pixels/model.json")),
    (
        "from-pixels/model.safetensors",
        include_bytes!("../assets/demo/from-pixels/model.safetensors"),
    ),
];

/// Writes the demo's files into a new temporary folder.
pub fn unpack() -> std::io::Result<DemoFiles> {
    let dir = tempfile::tempdir()?;
    // in a folder named "demo": the checkpoint's name in exports is its folder's
    let p = dir.path().join("demo");
    std::fs::create_dir_all(p.join("from-pixels"))?;
    for (name, bytes) in FILES {
        std::fs::write(p.join(name), bytes)?;
    }
    Ok(DemoFiles {
        labels: p.join("P06_cam01_P06_friedegg.txt"),
        mapping: p.join("mapping.txt"),
        model: p.join("model"),
        pixels_model: p.join("from-pixels/model"),
        video: p.join("P06_cam01_P06_friedegg.mp4"),
        dir,
    })
}

/// The demo's label file, mapping and checkpoint (and the folder that holds them).
pub fn files() -> std::io::Result<(tempfile::TempDir, PathBuf, PathBuf, PathBuf)> {
    let d = unpack()?;
    Ok((d.dir, d.labels, d.mapping, d.model))
}

/// [`files`] and the demo's rendered video.
pub fn files_with_video() -> std::io::Result<(tempfile::TempDir, PathBuf, PathBuf, PathBuf, PathBuf)>
{
    let d = unpack()?;
    Ok((d.dir, d.labels, d.mapping, d.model, d.video))
}
