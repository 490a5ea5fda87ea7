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
        !o.status.success() && stderr(&o).contains("--alpha must lie in [0, 1]"),
        "{}",
        stderr(&o)
    );
}
