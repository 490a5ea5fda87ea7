//! Train → checkpoint → evaluate, end to end through the binary, on a small generated dataset
//! whose future is learnable (every video runs through the same four actions in order).

use crate::common::*;

use std::path::Path;

fn synthetic_dataset(dir: &Path) {
    std::fs::create_dir_all(dir.join("groundTruth")).unwrap();
    std::fs::create_dir_all(dir.join("splits")).unwrap();
    std::fs::write(dir.join("mapping.txt"), "0 SIL\n1 take_cup\n2 pour_milk\n3 stir\n").unwrap();
    let mut names = Vec::new();
    for v in 0..16u32 {
        // lengths vary per video, the order never does
        let lens = [10 + v % 5, 30 + (v * 7) % 11, 25 + (v * 5) % 13, 20 + (v * 3) % 7];
        let mut lines = String::new();
        for (label, n) in ["SIL", "take_cup", "pour_milk", "stir"].iter().zip(lens) {
            for _ in 0..n {
                lines.push_str(label);
                lines.push('\n');
            }
        }
        let name = format!("v{v:02}");
        std::fs::write(dir.join(format!("groundTruth/{name}.txt")), lines).unwrap();
        names.push(name);
    }
    let bundle = |vs: &[String]| vs.iter().map(|v| format!("{v}.txt\n")).collect::<String>();
    std::fs::write(dir.join("splits/train.split1.bundle"), bundle(&names[..12])).unwrap();
    std::fs::write(dir.join("splits/test.split1.bundle"), bundle(&names[12..])).unwrap();
}

fn train(data: &Path, out: &Path, model: &str, epochs: &str, extra: &[&str]) {
    let mut args = vec![
        "train",
        "--data",
        data.to_str().unwrap(),
        "--split",
        "1",
        "--model",
        model,
        "--epochs",
        epochs,
        "--warmup",
        "2",
        "--batch-size",
        "4",
        "--stride",
        "2",
        "--d-model",
        "32",
        "--seed",
        "7",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = mmant(&args);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn losses(out: &Path) -> Vec<f64> {
    std::fs::read_to_string(out.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["loss"].as_f64().unwrap())
        .collect()
}

fn eval_checkpoint(data: &Path, ckpt: &Path) -> serde_json::Value {
    eval_stem(data, &ckpt.join("model"))
}

/// The grid of the checkpoint `<stem>.{json,safetensors}` on split 1.
fn eval_stem(data: &Path, stem: &Path) -> serde_json::Value {
    let results = tempfile::tempdir().unwrap();
    let o = mmant(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--split",
        "1",
        "--checkpoint",
        stem.to_str().unwrap(),
        "--alphas",
        "0.2,0.3",
        "--out",
        results.path().to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn futr_and_mmant_train_save_and_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("toy");
    synthetic_dataset(&data);
    for (model, extra) in [("futr", vec![]), ("mmant", vec!["--no-text"])] {
        let out = dir.path().join(model);
        train(&data, &out, model, "12", &extra);
        let l = losses(&out);
        assert_eq!(l.len(), 12);
        // every epoch is scored on the split's test videos, with last-observed beside it
        for line in std::fs::read_to_string(out.join("log.jsonl")).unwrap().lines() {
            let h = &serde_json::from_str::<serde_json::Value>(line).unwrap()["held_out"];
            assert_eq!(h["videos_from"], "test", "{line}");
            assert!((0.0..=1.0).contains(&h["first_is_current"].as_f64().unwrap()), "{line}");
            assert!((0.0..=100.0).contains(&h["moc"].as_f64().unwrap()), "{line}");
            assert!(h["last_observed_moc"].as_f64().unwrap() > 0.0, "{line}");
        }
        assert!(l.iter().all(|x| x.is_finite()));
        assert!(l[11] < 0.7 * l[0], "{model}: the loss did not fall: {l:?}");
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("model.json")).unwrap())
                .unwrap();
        assert_eq!(meta["stride"], 2);
        assert_eq!(meta["vocabulary"].as_array().unwrap().len(), 4);
        let r = eval_checkpoint(&data, &out);
        let mocs: Vec<f64> =
            r["mean"].as_array().unwrap().iter().map(|c| c["moc"].as_f64().unwrap()).collect();
        assert_eq!(mocs.len(), 8);
        assert!(mocs.iter().all(|m| (0.0..=100.0).contains(m)), "{mocs:?}");
        // evaluating twice gives the same numbers
        assert_eq!(r["mean"], eval_checkpoint(&data, &out)["mean"]);
    }
}

#[test]
fn same_seed_same_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("toy");
    synthetic_dataset(&data);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    train(&data, &a, "futr", "2", &[]);
    train(&data, &b, "futr", "2", &[]);
    assert_eq!(
        std::fs::read(a.join("model.safetensors")).unwrap(),
        std::fs::read(b.join("model.safetensors")).unwrap()
    );
}

#[test]
fn checkpoint_on_another_vocabulary_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("toy");
    synthetic_dataset(&data);
    let out = dir.path().join("m");
    train(&data, &out, "futr", "1", &[]);
    let o = mmant(&[
        "eval",
        "--data",
        shared_data("50salads").to_str().unwrap(),
        "--split",
        "1",
        "--checkpoint",
        out.join("model").to_str().unwrap(),
        "--out",
        dir.path().join("r").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("was trained on another vocabulary"), "{}", stderr(&o));
}

#[test]
fn training_on_every_video_holds_nothing_out_and_eval_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("toy");
    synthetic_dataset(&data);
    let out = dir.path().join("all");
    let o = mmant(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--split",
        "all",
        "--model",
        "futr",
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--stride",
        "2",
        "--d-model",
        "16",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // 16 videos (12 train + 4 test) × 3 observation rates
    assert!(stderr(&o).contains("split all (48 examples"), "{}", stderr(&o));
    let log = std::fs::read_to_string(out.join("log.jsonl")).unwrap();
    assert!(!log.contains("held_out"), "{log}");
    let o = mmant(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--split",
        "1",
        "--checkpoint",
        out.join("model").to_str().unwrap(),
        "--out",
        dir.path().join("r").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("these are scores on training data"), "{}", stderr(&o));
}

#[test]
fn training_cuts_each_video_at_the_given_observation_rates() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("toy");
    synthetic_dataset(&data);
    let run = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data",
            data.to_str().unwrap(),
            "--split",
            "1",
            "--model",
            "futr",
            "--epochs",
            "1",
            "--batch-size",
            "4",
            "--stride",
            "2",
            "--d-model",
            "16",
            "--held-out-every",
            "0",
            "--out",
        ];
        let out = dir.path().join("cuts");
        args.push(out.to_str().unwrap());
        args.extend_from_slice(extra);
        mmant(&args)
    };
    // the m&m-Ant code's ten cuts: 12 training videos × 10
    let o = run(&["--alphas", "0.2,0.25,0.3,0.35,0.4,0.45,0.5,0.55,0.6,0.65"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("split 1 (120 examples"), "{}", stderr(&o));
    let o = run(&["--alphas", "0.2,1.5"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--alphas: expected fractions in (0, 1], found 1.5"),
        "{}",
        stderr(&o)
    );
    // a device this build cannot open is named, with the way to get one that can
    let o = run(&["--device", "gpu0"]);
    assert!(stderr(&o).contains("expected cpu, cuda or cuda:N, found 'gpu0'"), "{}", stderr(&o));
    if !cfg!(feature = "cuda") {
        let o = run(&["--device", "cuda"]);
        assert!(stderr(&o).contains("built without the `cuda` feature"), "{}", stderr(&o));
    }
}

#[test]
fn diagnose_reports_the_first_segment_of_each_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("toy");
    synthetic_dataset(&data);
    let o = mmant(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--split",
        "1",
        "--baseline",
        "last-observed",
        "--diagnose",
        "--out",
        dir.path().join("r").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    // rows "| α | videos | truth continues | first = current | …": last-observed always starts with
    // the action in progress, on all 4 test videos
    let rows: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.starts_with("| 0.2 |") || l.starts_with("| 0.3 |"))
        .map(|l| l.split('|').map(str::trim).collect())
        .take(2)
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    for r in rows {
        assert_eq!((r[2], r[4]), ("4", "100.0%"), "{out}");
    }
    // --time-first-segment: results named <method>-timed; last-observed has nothing after its
    // first segment to move, so its grid is the same
    let grid = |method: &str| -> serde_json::Value {
        let path = dir.path().join("r").join(format!("toy_{method}_action_split-1.json"));
        serde_json::from_str::<serde_json::Value>(
            &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
        .unwrap()["splits"]
            .clone()
    };
    let timed = mmant(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--split",
        "1",
        "--baseline",
        "last-observed",
        "--time-first-segment",
        "--out",
        dir.path().join("r").to_str().unwrap(),
    ]);
    assert!(timed.status.success(), "{}", stderr(&timed));
    assert_eq!(grid("last-observed-timed"), grid("last-observed"));
}

#[test]
fn ablation_switches_reach_the_checkpoint_config() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("toy");
    synthetic_dataset(&data);
    let config = |out: &Path| -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(
            &std::fs::read_to_string(out.join("model.json")).unwrap(),
        )
        .unwrap()["model"]
            .clone()
    };
    let out = dir.path().join("plain");
    train(&data, &out, "mmant", "1", &["--no-text", "--held-out-every", "0"]);
    let settings = |out: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join("train-config.json")).unwrap())
            .unwrap()
    };
    assert_eq!(
        settings(&out)["transition_weight"],
        10.0,
        "the m&m-Ant code weights transitions ×10"
    );
    assert!(settings(&out).get("random_cuts").is_none());
    let m = config(&out);
    assert_eq!(
        (m["input_sinusoid"].as_bool(), m["ant_layers"].as_u64()),
        (Some(true), Some(1)),
        "the paper's design by default: {m}"
    );
    let out = dir.path().join("ablated");
    train(
        &data,
        &out,
        "mmant",
        "1",
        &["--no-text", "--held-out-every", "0", "--no-input-sinusoid", "--decoder-layers", "2"],
    );
    let m = config(&out);
    assert_eq!(
        (m["input_sinusoid"].as_bool(), m["ant_layers"].as_u64()),
        (Some(false), Some(2)),
        "{m}"
    );
    let out = dir.path().join("futr3");
    train(&data, &out, "futr", "1", &["--held-out-every", "0", "--decoder-layers", "3"]);
    assert_eq!(config(&out)["decoder_layers"], 3);
    assert_eq!(config(&out)["end_relative_positions"], false);
    assert_eq!(config(&out)["queries_from_segmentation"], false);
    assert_eq!(settings(&out)["transition_weight"], 1.0, "FUTR's code weights every sample alike");
    let out = dir.path().join("futr-variants");
    train(
        &data,
        &out,
        "futr",
        "1",
        &[
            "--held-out-every",
            "0",
            "--end-relative-positions",
            "--random-cuts",
            "--transition-weight",
            "3",
            "--queries-from-segmentation",
        ],
    );
    assert_eq!(config(&out)["end_relative_positions"], true);
    assert_eq!(config(&out)["queries_from_segmentation"], true);
    assert_eq!(
        (settings(&out)["random_cuts"].as_bool(), settings(&out)["transition_weight"].as_f64()),
        (Some(true), Some(3.0))
    );
    // FUTR has no input table to take away, and a decoder needs a layer
    let never_written = dir.path().join("refused");
    let refused = |extra: &[&str], why: &str| {
        let mut args = vec![
            "train",
            "--data",
            data.to_str().unwrap(),
            "--split",
            "1",
            "--epochs",
            "1",
            "--out",
            never_written.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = mmant(&args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(why), "{}", stderr(&o));
        assert!(!never_written.exists());
    };
    refused(
        &["--model", "futr", "--no-input-sinusoid"],
        "--no-input-sinusoid is an ablation of m&m-Ant",
    );
    refused(&["--model", "mmant", "--decoder-layers", "0"], "--decoder-layers");
    refused(
        &["--model", "mmant", "--end-relative-positions"],
        "--end-relative-positions is a variant of FUTR",
    );
    refused(
        &["--model", "futr", "--transition-weight", "0"],
        "--transition-weight: expected a positive weight, found 0",
    );
    refused(&["--model", "futr", "--pool-recent-first"], "are variants of m&m-Ant");
    refused(&["--model", "mmant", "--val-fraction", "0.7"], "--val-fraction: expected a fraction");

    // issue 30's m&m-Ant switches
    let out = dir.path().join("mmant-variants");
    train(
        &data,
        &out,
        "mmant",
        "1",
        &[
            "--no-text",
            "--held-out-every",
            "0",
            "--pool-recent-first",
            "--pool-sinusoid",
            "--embed-scale",
            "--confidence-mixing",
        ],
    );
    let m = config(&out);
    for k in ["pool_recent_first", "pool_sinusoid", "embed_scale"] {
        assert_eq!(m[k], true, "{k}: {m}");
    }
    assert_eq!(settings(&out)["confidence_mixing"], true);
    assert!(losses(&out).iter().all(|l| l.is_finite()));
}

#[test]
fn a_validation_carve_keeps_the_best_epoch_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("toy");
    synthetic_dataset(&data);
    let out = dir.path().join("val");
    train(&data, &out, "futr", "3", &["--val-fraction", "0.25", "--held-out-every", "0"]);
    let best: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("best.json")).unwrap()).unwrap();
    let selected = &best["selected"];
    let epoch = selected["epoch"].as_u64().unwrap();
    assert!((1..=3).contains(&epoch), "{selected}");
    // 12 training videos, a quarter carved out; never a test video (v12–v15)
    let val: Vec<&str> =
        selected["val_videos"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(val.len(), 3, "{selected}");
    assert!(val.iter().all(|v| v[1..].parse::<u32>().unwrap() < 12), "{val:?}");
    assert!(selected["rule"].as_str().unwrap().contains("validation"));
    // every epoch was scored on those videos, and the kept one scored highest (earliest on a tie)
    let log = std::fs::read_to_string(out.join("log.jsonl")).unwrap();
    let scores: Vec<f64> = log
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["held_out"]["videos_from"], "val (carved from training)");
            v["held_out"]["moc"].as_f64().unwrap()
        })
        .collect();
    assert_eq!(scores.len(), 3);
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(scores.iter().position(|&s| s == max).unwrap() + 1, epoch as usize);
    assert_eq!(selected["val_moc"].as_f64().unwrap(), max);
    // the last epoch stays model.*, unmarked, and the kept one evaluates
    let last: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("model.json")).unwrap()).unwrap();
    assert!(last.get("selected").is_none());
    assert!(eval_stem(&data, &out.join("best"))["splits"].is_array());
}

#[test]
fn the_query_oracle_scores_near_perfect_with_enough_queries() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("toy");
    synthetic_dataset(&data);
    let res = dir.path().join("res");
    let pred = dir.path().join("pred");
    let oracle = |queries: &str, extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "eval",
            "--data",
            data.to_str().unwrap(),
            "--split",
            "1",
            "--oracle-queries",
            queries,
            "--json",
            "--out",
            res.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = mmant(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let grid =
        oracle("8", &["--oracle-stride", "1", "--write-predictions", pred.to_str().unwrap()]);
    assert_eq!(grid["method"], "oracle-m8");
    // the written frames of a test video: as many as its ground truth, observed part as is
    let truth = std::fs::read_to_string(data.join("groundTruth/v12.txt")).unwrap();
    let written = std::fs::read_to_string(pred.join("split-1/alpha-0.2/v12.txt")).unwrap();
    assert_eq!(written.lines().count(), truth.lines().count());
    let observed = (0.2 * truth.lines().count() as f64) as usize;
    assert!(written.lines().take(observed).eq(truth.lines().take(observed)));
    let cells = grid["splits"][0]["cells"].as_array().unwrap();
    assert!(!cells.is_empty());
    for c in cells {
        let moc = c["moc"].as_f64().unwrap();
        assert!(moc > 95.0, "{c}");
    }
    // one query keeps the action in progress over the whole horizon
    let grid = oracle("1", &[]);
    let worst = grid["splits"][0]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["moc"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert!(worst < 90.0, "one query cannot describe four segments: {grid}");
}

#[test]
fn a_stopped_and_resumed_run_ends_as_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("toy");
    synthetic_dataset(&data);
    let weights = |out: &Path| std::fs::read(out.join("model.safetensors")).unwrap();
    for (model, extra) in [("futr", vec![]), ("mmant", vec!["--no-text"])] {
        let straight = dir.path().join(format!("{model}-straight"));
        let pieces = dir.path().join(format!("{model}-pieces"));
        train(&data, &straight, model, "4", &extra);
        train(&data, &pieces, model, "4", &[extra.as_slice(), &["--stop-after", "2"]].concat());
        assert_eq!(
            losses(&pieces).len(),
            2,
            "{model}: --stop-after 2 ran another number of epochs"
        );
        assert_ne!(weights(&straight), weights(&pieces));
        train(&data, &pieces, model, "4", &[extra.as_slice(), &["--resume"]].concat());
        // optimizer moments, step count, dropout stream and schedule all carried over
        assert_eq!(
            weights(&straight),
            weights(&pieces),
            "{model}: the resumed run ended elsewhere"
        );
        assert_eq!(losses(&straight), losses(&pieces), "{model}");
    }

    // other settings would make the rest another run
    let resume = |out: &Path, epochs: &str| {
        let (data, out) = (data.to_str().unwrap(), out.to_str().unwrap());
        #[rustfmt::skip]
        let args = ["train", "--data", data, "--split", "1", "--model", "futr", "--epochs", epochs, "--warmup", "2",
            "--batch-size", "4", "--stride", "2", "--d-model", "32", "--seed", "7", "--out", out, "--resume"];
        mmant(&args)
    };
    let o = resume(&dir.path().join("futr-pieces"), "6");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("epochs: the run has 4, this command 6"), "{}", stderr(&o));

    // a state file from another epoch than the checkpoint's is named, not silently used
    let other = dir.path().join("other");
    train(&data, &other, "futr", "4", &["--stop-after", "1"]);
    let stale = std::fs::read(other.join("train-state.safetensors")).unwrap();
    train(&data, &other, "futr", "4", &["--resume", "--stop-after", "2"]);
    std::fs::write(other.join("train-state.safetensors"), stale).unwrap();
    let o = resume(&other, "4");
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(
            "expected the state after epoch 2 (the checkpoint's), found the state after epoch 1"
        ),
        "{}",
        stderr(&o)
    );

    // a fresh run in a used folder drops the earlier run's state before its first epoch
    let fresh = mmant(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--split",
        "1",
        "--model",
        "futr",
        "--epochs",
        "0",
        "--out",
        other.to_str().unwrap(),
    ]);
    assert!(fresh.status.success(), "{}", stderr(&fresh));
    assert!(!other.join("train-state.safetensors").exists());
    train(&data, &other, "futr", "4", &["--stop-after", "2"]);

    // a run without a state file (an older mmant's) still resumes, with fresh moments, and says so
    std::fs::remove_file(other.join("train-state.safetensors")).unwrap();
    let o = resume(&other, "4");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("so the optimizer moments restart"), "{}", stderr(&o));
    assert_eq!(losses(&other).len(), 4);
}

#[test]
fn bench_train_times_both_models_on_the_same_batches() {
    // the synthetic dataset, ours only (PyTorch is optional and absent in CI): the command runs
    // end to end and reports a throughput per model
    let dir = tempfile::tempdir().unwrap();
    synthetic_dataset(dir.path());
    let o = mmant(&[
        "bench",
        "train",
        "--breakfast",
        dir.path().to_str().unwrap(),
        "--examples",
        "12",
        "--check-steps",
        "2",
        "--no-torch",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{report}");
    for r in rows {
        assert!(r["ours_examples_per_s"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["torch_examples_per_s"].is_null() && r["max_loss_rel_diff"].is_null(), "{r}");
    }
}
