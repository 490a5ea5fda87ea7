//! `mmant predict`: the CSV it writes parses back to exactly what the model anticipates.

use crate::common::*;

#[test]
fn predict_csv_holds_the_models_anticipation() {
    let (_dir, labels, _mapping, model) = mmant::demo::files().unwrap();
    let out = tempfile::tempdir().unwrap();
    let csv_path = out.path().join("pred.csv");
    let o = mmant(&[
        "predict",
        labels.to_str().unwrap(),
        "--checkpoint",
        model.to_str().unwrap(),
        "--alpha",
        "0.3",
        "--csv",
        csv_path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    // the same prediction through the library
    let ckpt =
        mmant::model::checkpoint::Checkpoint::load(&model, &candle_core::Device::Cpu).unwrap();
    let vocab = mmant::data::Vocabulary::from_names(ckpt.meta.vocabulary.clone());
    let gt = mmant::data::FrameLabels::read(&labels).unwrap().encode_strict(&vocab).unwrap();
    let observed = (0.3 * gt.len() as f64) as usize;
    let anticipator =
        mmant::model::anticipate::CheckpointAnticipator::new(ckpt, candle_core::Device::Cpu);
    let view = mmant::predict::anticipate(&anticipator, &gt[..observed], None, gt.len()).unwrap();

    let mut r = csv::Reader::from_path(&csv_path).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        mmant::predict::SEGMENT_COLUMNS.to_vec()
    );
    let mut tracks: std::collections::HashMap<String, Vec<u32>> = Default::default();
    let mut starts: std::collections::HashMap<String, usize> = Default::default();
    for rec in r.records() {
        let rec = rec.unwrap();
        let (s, e): (usize, usize) = (rec[5].parse().unwrap(), rec[6].parse().unwrap());
        starts.entry(rec[1].to_owned()).or_insert(s);
        assert_eq!(
            vocab.name(rec[4].parse().unwrap()).unwrap_or("NONE"),
            &rec[3],
            "label and label_id agree"
        );
        assert_eq!(&rec[9], format!("{:.4}", observed as f64 / gt.len() as f64).as_str());
        assert_eq!(&rec[10], "demo");
        tracks
            .entry(rec[1].to_owned())
            .or_default()
            .extend(std::iter::repeat_n(rec[4].parse::<u32>().unwrap(), e - s));
    }
    assert_eq!(tracks["ground_truth"], gt);
    assert_eq!(tracks["coarse"], view.coarse);
    assert_eq!(starts["anticipated"], observed);
    assert_eq!(tracks["anticipated"], view.future);

    // the CSV it wrote is itself an input (its ground_truth rows): the same prediction again
    let again = out.path().join("again.csv");
    let o = mmant(&[
        "predict",
        csv_path.to_str().unwrap(),
        "--checkpoint",
        model.to_str().unwrap(),
        "--alpha",
        "0.3",
        "--csv",
        again.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = |p: &std::path::Path| -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("video,"))
            .map(|l| l.split_once(',').unwrap().1.to_owned())
            .collect()
    };
    assert_eq!(
        rows(&again),
        rows(&csv_path),
        "same tracks, same anticipation (only the video name differs)"
    );

    // per frame: one row per frame, the anticipated column empty before the observation point
    let frames_path = out.path().join("frames.csv");
    let o = mmant(&[
        "predict",
        labels.to_str().unwrap(),
        "--checkpoint",
        model.to_str().unwrap(),
        "--alpha",
        "0.3",
        "--csv",
        frames_path.to_str().unwrap(),
        "--per-frame",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&frames_path).unwrap();
    assert_eq!(text.lines().count(), gt.len() + 1);
    let o = mmant(&[
        "predict",
        labels.to_str().unwrap(),
        "--checkpoint",
        model.to_str().unwrap(),
        "--alpha",
        "1.5",
        "--csv",
        frames_path.to_str().unwrap(),
    ]);
    assert!(
        !o.status.success() && stderr(&o).contains("--alpha must lie in (0, 1]"),
        "{}",
        stderr(&o)
    );
}

fn predict(args: &[&str]) -> std::process::Output {
    let mut all = vec!["predict"];
    all.extend_from_slice(args);
    mmant(&all)
}

/// A checkpoint observes labels or features; the other kind is refused, never read as zeros.
#[test]
fn an_observation_of_the_wrong_kind_is_refused() {
    let (dir, labels, _mapping, model) = mmant::demo::files().unwrap();
    // features that read well (a sidecar says their orientation), for a checkpoint of labels
    let npy = dir.path().join("clip.npy");
    mmant::data::features::write_npy_f32(&npy, [4, 100], &[0.5; 400]).unwrap();
    std::fs::write(dir.path().join("clip.json"), r#"{"orientation": "CxT", "dim": 4}"#).unwrap();
    let csv = dir.path().join("out.csv");
    let o = predict(&[
        npy.to_str().unwrap(),
        "--checkpoint",
        model.to_str().unwrap(),
        "--alpha",
        "0.3",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(!o.status.success(), "a labels checkpoint given features must fail: {err}");
    assert!(err.contains("observes labels") && err.contains("clip.npy"), "{err}");
    assert!(!csv.exists(), "nothing is written");
    // and a label file for it still works
    let o = predict(&[
        labels.to_str().unwrap(),
        "--checkpoint",
        model.to_str().unwrap(),
        "--alpha",
        "0.3",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// `--checkpoint` takes the folder as assets/checkpoints/README.md calls it; times follow the
/// checkpoint's dataset (50 Salads: 30 fps); α = 0 observes nothing and is refused.
#[test]
fn checkpoint_folders_dataset_rates_and_alpha_zero() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let folder = root.join("assets/checkpoints/50salads");
    let labels = crate::common::shared_data("50salads").join("groundTruth/rgb-01-1.txt");
    let out = tempfile::tempdir().unwrap();
    let csv = out.path().join("s.csv");
    let args = |alpha: &'static str| {
        vec![
            labels.to_str().unwrap().to_owned(),
            "--checkpoint".into(),
            folder.to_str().unwrap().to_owned(),
            "--alpha".into(),
            alpha.into(),
            "--csv".into(),
            csv.to_str().unwrap().to_owned(),
        ]
    };
    let a: Vec<String> = args("0.3");
    let o = predict(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("30 fps"), "{}", stdout(&o));
    let mut r = csv::Reader::from_path(&csv).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        let end: f64 = rec[6].parse().unwrap();
        let end_s: f64 = rec[8].parse().unwrap();
        assert!((end / 30.0 - end_s).abs() < 1e-3, "{rec:?}");
        assert_eq!(&rec[10], "50salads", "the checkpoint is named by its folder");
    }
    let a: Vec<String> = args("0");
    let o = predict(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!o.status.success() && stderr(&o).contains("(0, 1]"), "{}", stderr(&o));
}
