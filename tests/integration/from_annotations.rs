//! `train --from-annotations`: a folder of the user's videos, some annotated, becomes a model that
//! recognises the annotated actions in a video it did not train on. The videos are synthetic
//! (ffmpeg colour fields with noise, one colour per action): a plumbing test of extraction,
//! caching, label conversion, training and recognition, not a benchmark.

use candle_core::Device;
use mmant::data::Dataset;
use mmant::eval::Observation;
use mmant::model::anticipate::CheckpointAnticipator;
use mmant::model::checkpoint::Checkpoint;

use crate::common::{colour_field_video as video, mmant, stderr, stdout};

#[test]
fn a_model_trained_on_annotated_videos_recognises_actions_in_a_held_out_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let orders = &crate::common::ACTION_ORDERS;
    for (i, segs) in orders.iter().enumerate() {
        video(d, &format!("v{i}"), segs, true);
    }
    // one without labels, one whose labels are too short, one that is not a video
    video(d, "unlabelled", orders[0], false);
    video(d, "short", orders[1], true);
    let short = std::fs::read_to_string(d.join("short.txt")).unwrap();
    let half: String = short.lines().take(60).map(|l| format!("{l}\n")).collect();
    std::fs::write(d.join("short.txt"), half).unwrap();
    std::fs::write(d.join("broken.mp4"), b"not a video").unwrap();
    std::fs::write(d.join("broken.txt"), "SIL\n".repeat(10)).unwrap();

    let out = d.join("run");
    let args = [
        "train",
        "--from-annotations",
        d.to_str().unwrap(),
        "--model",
        "futr",
        "--d-model",
        "32",
        "--epochs",
        "40",
        "--warmup",
        "2",
        "--held-out-every",
        "0",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = mmant(&args);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let said = stderr(&o);
    assert!(
        said.contains("short.mp4: not used: its labels")
            && said.contains("cover 60 frames, the video has 120"),
        "{said}"
    );
    assert!(said.contains("broken.mp4: not used:"), "{said}");
    assert!(said.contains("training on 5 annotated video(s), holding out 1 (v1)"), "{said}");
    assert!(said.contains("1 without labels"), "{said}");

    // the held-out videos' coarse labels, recognised from their features
    let root = d.join(".mmant/efficientnet-lite0");
    let ds = Dataset::open(&root).unwrap();
    let ck = CheckpointAnticipator::new(
        Checkpoint::load(&out.join("model"), &Device::Cpu).unwrap(),
        Device::Cpu,
    );
    let (mut right, mut total) = (0, 0);
    for name in ["v1"] {
        let v = ds.load_video(name, Some(1280)).unwrap();
        let labels = &v.levels[0];
        let obs = Observation {
            video: name,
            labels: &labels[..labels.len() * 9 / 10],
            features: v.features.as_ref(),
            total_frames: labels.len(),
        };
        let a = ck.run(&obs).unwrap();
        for (t, &c) in a.observed_coarse.iter().enumerate() {
            total += 1;
            right += usize::from(c == labels[(t * 3).min(labels.len() - 1)]);
        }
    }
    let acc = right as f64 / total as f64;
    eprintln!("held-out v1: {right} of {total} tokens recognised ({acc:.3})");
    // chance: the most frequent label's share, under 0.4 here
    assert!(acc > 0.8, "recognised {right} of {total} held-out tokens ({acc:.2})");

    // a second run reuses the cached features (nothing re-extracted); a video whose label file
    // was removed since is left out of the dataset, its old labels with it
    std::fs::remove_file(d.join("v4.txt")).unwrap();
    let o = mmant(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("extracting v0"), "{}", stderr(&o));
    assert!(stderr(&o).contains("training on 4 annotated video(s)"), "{}", stderr(&o));
    assert!(!root.join("groundTruth/v4.txt").exists());

    // a folder with no labelled video says so
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = mmant(&[
        "train",
        "--from-annotations",
        empty.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no video has a label file beside it"), "{}", stderr(&o));
}
