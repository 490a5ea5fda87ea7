//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The real Breakfast / 50 Salads / DARai files beside the project (`../shared/data`), or the
/// folder named by MMANT_SHARED_DATA. Missing data fails the test: CI always has it.
pub fn shared_data(name: &str) -> PathBuf {
    let base = std::env::var_os("MMANT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let dir = base.join(name);
    assert!(
        dir.is_dir(),
        "{} is missing: the tests read the shared real data (set MMANT_SHARED_DATA)",
        dir.display()
    );
    dir
}

pub fn mmant(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmant")).args(args).output().expect("run mmant")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A 64×48 video whose frame n is gray level 4n (lossless H.264 with B-frames, keyframe every 10).
pub fn numbered_video(dir: &Path, extra: &[&str]) -> PathBuf {
    let out = dir.join("numbered.mkv");
    let mut args = vec![
        "-y",
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=64x48:r=25:d=2.4,format=gray,geq=lum='N*4'",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[
        "-c:v",
        "libx264",
        "-qp",
        "0",
        "-g",
        "10",
        "-bf",
        "2",
        "-pix_fmt",
        "yuv420p",
        out.to_str().unwrap(),
    ]);
    let st = Command::new("ffmpeg")
        .args(&args)
        .status()
        .expect("ffmpeg (scripts/install-deps --test installs it)");
    assert!(st.success());
    out
}

pub fn gray(frame: &mmant::video::RgbFrame) -> f64 {
    frame.data.iter().map(|&b| b as f64).sum::<f64>() / frame.data.len() as f64
}

/// The numbered video as a faststart MP4 (its header first, as a download has it) cut to three
/// quarters of its bytes (its moov header takes most of the first half): the container still declares 60 frames.
pub fn truncated_numbered_video(dir: &Path) -> PathBuf {
    let sub = dir.join("faststart");
    std::fs::create_dir_all(&sub).unwrap();
    // (named .mkv by numbered_video; -f mp4 makes it an MP4)
    let whole = numbered_video(&sub, &["-movflags", "+faststart", "-f", "mp4"]);
    let bytes = std::fs::read(&whole).unwrap();
    let cut = dir.join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() * 3 / 4]).unwrap();
    cut
}

/// Orders of (action, seconds) for colour-field videos: several videos, each its own order.
pub const ACTION_ORDERS: [&[(usize, usize)]; 6] = [
    &[(0, 1), (1, 2), (2, 2), (3, 2), (0, 1)],
    &[(0, 2), (1, 1), (3, 2), (2, 2), (0, 1)],
    &[(1, 2), (2, 1), (3, 2), (0, 2)],
    &[(0, 1), (2, 2), (1, 2), (3, 1), (0, 2)],
    &[(3, 2), (0, 1), (1, 2), (2, 2)],
    &[(0, 1), (1, 1), (2, 3), (3, 2)],
];

const COLOURS: [(&str, &str); 4] =
    [("SIL", "gray"), ("take_cup", "red"), ("pour_water", "green"), ("stir", "blue")];

/// A synthetic 15 fps video of coloured segments (label, seconds) with noise, and its MS-TCN labels.
pub fn colour_field_video(
    dir: &Path,
    name: &str,
    segments: &[(usize, usize)],
    labels: bool,
) -> PathBuf {
    let mut graph = String::new();
    for (i, (c, secs)) in segments.iter().enumerate() {
        graph += &format!("color=c={}:s=96x64:r=15:d={secs}[s{i}];", COLOURS[*c].1);
    }
    graph += &(0..segments.len()).map(|i| format!("[s{i}]")).collect::<String>();
    graph += &format!("concat=n={}:v=1:a=0,noise=alls=30:allf=t[v]", segments.len());
    let path = dir.join(format!("{name}.mp4"));
    let st = std::process::Command::new("ffmpeg")
        .args(["-y", "-v", "error", "-filter_complex", &graph, "-map", "[v]", "-c:v", "libx264"])
        .args(["-pix_fmt", "yuv420p", path.to_str().unwrap()])
        .status()
        .expect("ffmpeg (scripts/install-deps --test installs it)");
    assert!(st.success());
    if labels {
        let text: String = segments
            .iter()
            .flat_map(|(c, secs)| std::iter::repeat_n(format!("{}\n", COLOURS[*c].0), secs * 15))
            .collect();
        std::fs::write(dir.join(format!("{name}.txt")), text).unwrap();
    }
    path
}
