//! Frame-accurate decoding on generated videos (ffmpeg CLI, installed by scripts/install-deps
//! --test) and on the real clip in ../shared/video.

use std::path::Path;
use std::process::Command;

use mmant::video::VideoFile;

use crate::common::{gray, numbered_video, truncated_numbered_video};

#[test]
fn every_frame_is_found_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = numbered_video(dir.path(), &[]);
    let mut v = VideoFile::open(&path).unwrap();
    assert_eq!(v.metadata.frames, 60);
    assert!((v.metadata.fps - 25.0).abs() < 0.01, "{:?}", v.metadata);
    assert!(!v.metadata.variable_fps);
    assert_eq!((v.metadata.width, v.metadata.height), (64, 48));
    // backwards, jumps across keyframes, repeats, sequential
    for k in [59usize, 0, 31, 30, 29, 9, 10, 11, 45, 45, 46, 47, 3] {
        let f = v.frame(k, 0, 0).unwrap();
        assert_eq!(f.index, k);
        assert!((gray(&f) - 4.0 * k as f64).abs() < 1.5, "frame {k}: gray {}", gray(&f));
    }
    let small = v.frame(12, 32, 24).unwrap();
    assert_eq!((small.width, small.height, small.data.len()), (32, 24, 32 * 24 * 3));
    let e = v.frame(60, 0, 0).unwrap_err().to_string();
    assert!(e.contains("frame 60 asked for, the video has 60 frames"), "{e}");
    // opening again uses the cached index and finds the same frames
    let mut again = VideoFile::open(&path).unwrap();
    assert_eq!(again.index, v.index);
    assert!((gray(&again.frame(33, 0, 0).unwrap()) - 132.0).abs() < 1.5);
}

fn ffmpeg(args: &[&str]) {
    let st = Command::new("ffmpeg")
        .args(["-y", "-v", "error"])
        .args(args)
        .status()
        .expect("ffmpeg (scripts/install-deps --test installs it)");
    assert!(st.success(), "ffmpeg {args:?}");
}

/// Frames ffprobe counts by decoding the whole stream.
fn ffprobe_frames(path: &Path) -> usize {
    let o = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&o.stdout).trim().parse().expect("a frame count")
}

#[test]
fn frame_counts_match_ffprobe_and_seeks_match_sequential_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let cases = [
        // odd size (lossless FFV1: H.264 4:2:0 needs even sizes)
        ("odd.mkv", vec!["-f", "lavfi", "-i", "testsrc=s=63x47:r=30:d=1.5", "-c:v", "ffv1"]),
        // one long GOP with B-frames: every seek decodes from frame 0
        (
            "long_gop.mp4",
            vec![
                "-f",
                "lavfi",
                "-i",
                "testsrc=s=96x64:r=25:d=4",
                "-c:v",
                "libx264",
                "-g",
                "250",
                "-bf",
                "3",
                "-pix_fmt",
                "yuv420p",
            ],
        ),
        // short GOPs, no B-frames, MPEG-4 part 2 in AVI
        (
            "short_gop.avi",
            vec![
                "-f",
                "lavfi",
                "-i",
                "testsrc=s=80x60:r=24:d=2",
                "-c:v",
                "mpeg4",
                "-g",
                "5",
                "-bf",
                "0",
            ],
        ),
        // VP9 in WebM
        (
            "vp9.webm",
            vec![
                "-f",
                "lavfi",
                "-i",
                "testsrc=s=64x48:r=25:d=1.2",
                "-c:v",
                "libvpx-vp9",
                "-g",
                "12",
                "-deadline",
                "realtime",
            ],
        ),
    ];
    for (name, mut args) in cases {
        let out = d(name);
        args.push(&out);
        ffmpeg(&args);
        let path = dir.path().join(name);
        let mut v = VideoFile::open(&path).unwrap();
        let n = ffprobe_frames(&path);
        assert_eq!(v.metadata.frames, n, "{name}: frame count vs ffprobe");
        let sequential: Vec<Vec<u8>> = (0..n).map(|k| v.frame(k, 0, 0).unwrap().data).collect();
        for k in [n - 1, n / 2, 1, n - 2, 0, n / 3 + 1] {
            assert_eq!(
                v.frame(k, 0, 0).unwrap().data,
                sequential[k],
                "{name}: frame {k} after a seek"
            );
        }
        assert_ne!(sequential[0], sequential[n / 2], "{name}: the pattern moves");
    }
    assert_eq!(VideoFile::open(&dir.path().join("odd.mkv")).unwrap().metadata.width, 63);
}

#[test]
fn rotation_metadata_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.mp4");
    let rotated = dir.path().join("rotated.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=s=64x48:r=25:d=0.4",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        plain.to_str().unwrap(),
    ]);
    ffmpeg(&[
        "-i",
        plain.to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        rotated.to_str().unwrap(),
    ]);
    assert_eq!(VideoFile::open(&plain).unwrap().metadata.rotation, 0);
    let m = VideoFile::open(&rotated).unwrap().metadata;
    assert_eq!(m.rotation.rem_euclid(360), 90, "{m:?}");
}

#[test]
fn variable_frame_rate_keeps_ordinals() {
    let dir = tempfile::tempdir().unwrap();
    // frames after 30 come twice as far apart: time × fps would point at the wrong frame
    let path = numbered_video(
        dir.path(),
        &["-vf", "setpts='if(lt(N,30),N,30+2*(N-30))/(25*TB)'", "-fps_mode", "vfr"],
    );
    let mut v = VideoFile::open(&path).unwrap();
    assert_eq!(v.metadata.frames, 60);
    assert!(v.metadata.variable_fps, "{:?}", v.metadata);
    for k in [50usize, 35, 5] {
        assert!((gray(&v.frame(k, 0, 0).unwrap()) - 4.0 * k as f64).abs() < 1.5, "frame {k}");
    }
}

#[test]
fn real_clip_random_access_equals_sequential_decoding() {
    let clip = crate::common::shared_data("..").join("video/v_GGSY1Qvo990.mp4");
    let mut v = VideoFile::open(&clip).unwrap();
    assert_eq!(v.metadata.frames, 355);
    assert_eq!((v.metadata.width, v.metadata.height), (320, 240));
    assert_eq!(v.metadata.codec, "h264");
    let sequential: Vec<Vec<u8>> = (0..40).map(|k| v.frame(k, 80, 60).unwrap().data).collect();
    for k in [39usize, 7, 20, 0, 33] {
        assert_eq!(v.frame(k, 80, 60).unwrap().data, sequential[k], "frame {k}");
    }
    let last = v.frame(354, 0, 0).unwrap();
    assert_eq!(last.data.len(), 320 * 240 * 3);
}

#[test]
fn bad_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("garbage.mp4");
    std::fs::write(&p, b"this is not a video at all").unwrap();
    let e = VideoFile::open(&p).err().unwrap().to_string();
    assert!(e.contains("garbage.mp4: cannot open"), "{e}");
    let e = VideoFile::open(&dir.path().join("missing.mp4")).err().unwrap().to_string();
    assert!(e.contains("missing.mp4: cannot open"), "{e}");
    // a file with only an audio stream
    let audio = dir.path().join("audio.m4a");
    ffmpeg(&["-f", "lavfi", "-i", "sine=d=0.5", "-c:a", "aac", audio.to_str().unwrap()]);
    let e = VideoFile::open(&audio).err().unwrap().to_string();
    assert!(e.contains("audio.m4a: expected a video stream, found none"), "{e}");
    // a truncated real video opens with the frames it has, or fails clearly, never panics
    let clip =
        std::fs::read(crate::common::shared_data("..").join("video/v_GGSY1Qvo990.mp4")).unwrap();
    let cut = dir.path().join("cut.mp4");
    std::fs::write(&cut, &clip[..clip.len() / 3]).unwrap();
    if let Ok(mut v) = VideoFile::open(&cut) {
        let _ = v.frame(v.metadata.frames - 1, 0, 0);
    }
}

#[test]
fn worker_answers_the_latest_request_without_blocking_the_caller() {
    use mmant::video::{DecoderWorker, Reply};
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let path = numbered_video(dir.path(), &[]);
    let mut w = DecoderWorker::spawn(path, 8 << 20);
    match w.wait(Duration::from_secs(20)) {
        Some(Reply::Opened(m)) => assert_eq!(m.frames, 60),
        other => panic!("expected Opened, got {other:?}"),
    }
    // a burst of requests (scrubbing): the last one must be answered, stale ones may be dropped
    for k in 0..40 {
        w.request(k, 0, 0);
    }
    let latest = w.latest();
    let mut got_latest = false;
    while let Some(reply) = w.wait(Duration::from_secs(20)) {
        match reply {
            Reply::Frame { generation, frame } => {
                assert!(frame.index < 40);
                if generation == latest {
                    assert_eq!(frame.index, 39);
                    assert!((gray(&frame) - 156.0).abs() < 1.5);
                    got_latest = true;
                    break;
                }
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(got_latest);
    // a repeated request comes from the cache
    let g = w.request(39, 0, 0);
    assert!(
        matches!(w.wait(Duration::from_secs(5)), Some(Reply::Frame { generation, .. }) if generation == g)
    );
    // errors come back as replies
    let g = w.request(1000, 0, 0);
    assert!(
        matches!(w.wait(Duration::from_secs(5)), Some(Reply::Error { generation, message }) if generation == g && message.contains("frame 1000"))
    );
}

/// FFmpeg opens any text file as a "video" of its characters (the tty demuxer); a label file
/// given as the video is refused with a hint instead.
#[test]
fn a_label_file_is_not_a_video() {
    let dir = tempfile::tempdir().unwrap();
    let txt = dir.path().join("clip.txt");
    std::fs::write(&txt, "SIL\n".repeat(50) + &"pour_oil\n".repeat(50)).unwrap();
    let err = VideoFile::open(&txt).err().expect("a text file is no video").to_string();
    assert!(err.contains("not a video") && err.contains("--labels"), "{err}");
    let o = crate::common::mmant(&[
        "extract",
        txt.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!o.status.success() && crate::common::stderr(&o).contains("not a video"));
}

#[test]
fn a_file_cut_short_says_how_many_frames_it_should_have() {
    let dir = tempfile::tempdir().unwrap();
    let cut = truncated_numbered_video(dir.path());
    let meta = VideoFile::open(&cut).unwrap().metadata;
    let early = meta.ends_early().expect("a cut file is reported");
    assert_eq!(early.declared_frames, 60);
    assert!(early.frames < 40 && early.frames == meta.frames, "{early:?}");
    assert!((early.stops_at_s - meta.frames as f64 / 25.0).abs() < 0.05, "{early:?}");
    let whole = VideoFile::open(&numbered_video(dir.path(), &[])).unwrap().metadata;
    assert_eq!(whole.ends_early(), None, "a whole file is not reported");
}

#[test]
fn scrubbing_gets_the_nearest_picture_at_once_then_the_exact_frame() {
    use mmant::video::{DecoderWorker, Precision, Reply};
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let mut w = DecoderWorker::spawn(numbered_video(dir.path(), &[]), 8 << 20); // keyframe every 10
    assert!(matches!(w.wait(Duration::from_secs(20)), Some(Reply::Opened(_))));
    let pictures = |w: &mut DecoderWorker, k: usize, n: usize| {
        let g = w.request_with(k, 0, 0, Precision::Nearby);
        let mut shown = Vec::new();
        while shown.len() < n {
            match w.wait(Duration::from_secs(20)) {
                // the exact frame of an earlier request may still arrive: the viewer drops it
                Some(Reply::Frame { generation, .. }) if generation < g => {}
                Some(Reply::Frame { generation, frame }) if generation == g => {
                    assert!((gray(&frame) - 4.0 * frame.index as f64).abs() < 1.5);
                    shown.push(frame.index);
                }
                other => panic!("frame {k}: {other:?}"),
            }
        }
        shown
    };
    // nothing cached: the keyframe before 37 (it decodes alone), then, with no newer request
    // waiting, the exact frame
    assert_eq!(pictures(&mut w, 37, 2), [30, 37]);
    // 30 and 37 cached: the nearest of them no farther than the keyframe
    assert_eq!(pictures(&mut w, 33, 2), [30, 33]);
    assert_eq!(pictures(&mut w, 36, 1), [37], "37 is nearer than 33, 30");
    assert_eq!(pictures(&mut w, 59, 2), [50, 59], "no cached frame within 59 − 50 of 59");
}
