//! The CLI on the real Breakfast and 50 Salads labels in ../shared/data.

use crate::common::*;

#[test]
fn data_check_breakfast_counts() {
    let root = shared_data("breakfast");
    let o = mmant(&["data", "check", root.to_str().unwrap()]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(
        out.contains("videos: 1712   frames: 3590899   length min/median/max: 130/1373/9741"),
        "{out}"
    );
    assert!(out.contains("level activity: 10 classes"), "{out}");
    assert!(out.contains("level action: 48 classes"), "{out}");
    for (k, train, test) in [(1, 1460, 252), (2, 1261, 451), (3, 1279, 433), (4, 1136, 576)] {
        assert!(out.contains(&format!("split {k}: train {train} test {test}")), "{out}");
    }
    assert!(out.trim_end().ends_with("OK"), "{out}");
}

#[test]
fn data_check_50salads_json() {
    let root = shared_data("50salads");
    let o = mmant(&["data", "check", root.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["videos"], 50);
    assert_eq!(r["frames"], 577595);
    assert_eq!(r["levels"][0]["classes"], 19);
    assert_eq!(r["splits"].as_array().unwrap().len(), 5);
    for s in r["splits"].as_array().unwrap() {
        assert_eq!((s["train"].as_u64(), s["test"].as_u64()), (Some(40), Some(10)));
    }
    let hist: u64 = r["levels"][0]["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["frames"].as_u64().unwrap())
        .sum();
    assert_eq!(hist, 577595);
}

#[test]
fn data_check_darai_reports_missing_labels() {
    // DARai's per-frame labels are not public: the vocabularies and splits load, the check fails clearly.
    let root = shared_data("darai");
    let o = mmant(&["data", "check", root.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let classes: Vec<u64> =
        r["levels"].as_array().unwrap().iter().map(|l| l["classes"].as_u64().unwrap()).collect();
    assert_eq!(classes, vec![7, 17, 48]);
    assert_eq!(
        (
            r["splits"][0]["train"].as_u64(),
            r["splits"][0]["val"].as_u64(),
            r["splits"][0]["test"].as_u64()
        ),
        (Some(196), Some(54), Some(34))
    );
    assert!(r["errors"][0].as_str().unwrap().contains("groundTruth"), "{}", r["errors"]);
}

/// An independent, deliberately plain MoC over label strings, to check the CLI's numbers.
fn moc_last_observed_by_strings(root: &std::path::Path, split: u32, alpha: f64, beta: f64) -> f64 {
    use std::collections::BTreeMap;
    let bundle =
        std::fs::read_to_string(root.join(format!("splits/test.split{split}.bundle"))).unwrap();
    let mut right: BTreeMap<String, f64> = BTreeMap::new();
    let mut all: BTreeMap<String, f64> = BTreeMap::new();
    for file in bundle.split_whitespace() {
        let gt: Vec<String> = std::fs::read_to_string(root.join("groundTruth").join(file))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        let n = gt.len();
        let obs = (alpha * n as f64) as usize;
        let end = (((alpha + beta) * n as f64) as usize).min(n);
        let last = &gt[obs - 1];
        for label in &gt[obs..end] {
            *all.entry(label.clone()).or_default() += 1.0;
            if label == last {
                *right.entry(label.clone()).or_default() += 1.0;
            }
        }
    }
    100.0 * all.iter().map(|(k, t)| right.get(k).copied().unwrap_or(0.0) / t).sum::<f64>()
        / all.len() as f64
}

#[test]
fn last_observed_grid_on_50salads_matches_a_plain_reimplementation() {
    let root = shared_data("50salads");
    let out = tempfile::tempdir().unwrap();
    let o = mmant(&[
        "eval",
        "--data",
        root.to_str().unwrap(),
        "--split",
        "all",
        "--baseline",
        "last-observed",
        "--out",
        out.path().to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["splits"].as_array().unwrap().len(), 5);
    for s in r["splits"].as_array().unwrap() {
        let split: u32 = s["split"].as_str().unwrap().parse().unwrap();
        for c in s["cells"].as_array().unwrap() {
            let (a, b) = (c["alpha"].as_f64().unwrap(), c["beta"].as_f64().unwrap());
            let expected = moc_last_observed_by_strings(&root, split, a, b);
            let got = c["moc"].as_f64().unwrap();
            assert!(
                (got - expected).abs() < 1e-9,
                "split {split} α {a} β {b}: {got} vs {expected}"
            );
        }
    }
    // the files were written, and the mean row is the mean of the splits
    let csv =
        std::fs::read_to_string(out.path().join("50salads_last-observed_action_split-all.csv"))
            .unwrap();
    assert_eq!(csv.lines().count(), 1 + 16 * 6);
    let mean0 = r["mean"][0]["moc"].as_f64().unwrap();
    let avg: f64 = r["splits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cells"][0]["moc"].as_f64().unwrap())
        .sum::<f64>()
        / 5.0;
    assert!((mean0 - avg).abs() < 1e-9);
}

#[test]
fn transition_prior_grid_is_complete_and_in_range_on_breakfast_split1() {
    let root = shared_data("breakfast");
    let out = tempfile::tempdir().unwrap();
    let o = mmant(&[
        "eval",
        "--data",
        root.to_str().unwrap(),
        "--split",
        "1",
        "--baseline",
        "transition-prior",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let text = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    // α rows × β columns
    assert!(text.contains("| split | α | β=0.1 | β=0.2 | β=0.3 | β=0.5 |"), "{text}");
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| 1 |")).collect();
    let alphas: Vec<&str> = rows.iter().map(|r| r.split('|').nth(2).unwrap().trim()).collect();
    assert_eq!(alphas, ["0.1", "0.2", "0.3", "0.5"], "{text}");
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.split('|').skip(3).filter_map(|c| c.trim().parse().ok()))
        .collect();
    assert_eq!(values.len(), 16, "{text}");
    assert!(values.iter().all(|v| (0.0..=100.0).contains(v)), "{text}");
    // a method that predicts changes of action cannot score the same in every cell
    assert!(values.iter().any(|v| (v - values[0]).abs() > 1e-6), "{text}");
}

#[test]
fn the_first_segment_is_timed_by_the_prior_or_by_the_learned_model() {
    let root = shared_data("50salads");
    let out = tempfile::tempdir().unwrap();
    let grid = |timing: &[&str]| {
        let mut args = vec![
            "eval",
            "--data",
            root.to_str().unwrap(),
            "--split",
            "1",
            "--baseline",
            "transition-prior",
            "--alphas",
            "0.2,0.3",
            "--out",
            out.path().to_str().unwrap(),
            "--json",
        ];
        args.extend(timing);
        let o = mmant(&args);
        assert!(o.status.success(), "{timing:?}: {}", stderr(&o));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let cells: Vec<f64> = r["splits"][0]["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["moc"].as_f64().unwrap())
            .collect();
        (r["method"].as_str().unwrap().to_owned(), cells, stderr(&o))
    };
    let (method, untimed, _) = grid(&[]);
    assert_eq!(method, "transition-prior");
    let (method, prior, _) = grid(&["--time-first-segment"]);
    assert_eq!(method, "transition-prior-timed");
    let (method, learned, log) = grid(&["--time-first-segment=learned"]);
    assert_eq!(method, "transition-prior-timed-learned");
    assert!(
        log.contains("remaining-duration model fitted on 3640 cuts of 40 training videos"),
        "{log}"
    );
    // fitted once, though the diagnosis and the grid both ask for split 1's anticipator
    let o = mmant(&[
        "eval",
        "--data",
        root.to_str().unwrap(),
        "--split",
        "1",
        "--baseline",
        "transition-prior",
        "--alphas",
        "0.2",
        "--out",
        out.path().to_str().unwrap(),
        "--time-first-segment=learned",
        "--diagnose",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o).matches("remaining-duration model fitted").count(), 1, "{}", stderr(&o));
    // each timing moves the first segment's end somewhere in the grid
    assert_ne!(untimed, prior);
    assert_ne!(untimed, learned);
    assert_ne!(prior, learned);
}

#[test]
fn observing_mstcn_outputs_adds_observed_segmentation_scores() {
    let root = shared_data("breakfast");
    let out = tempfile::tempdir().unwrap();
    let pred = root.join("predictions_mstcn_split1");
    let o = mmant(&[
        "eval",
        "--data",
        root.to_str().unwrap(),
        "--split",
        "1",
        "--baseline",
        "last-observed",
        "--observed",
        pred.to_str().unwrap(),
        "--alphas",
        "0.2,0.3",
        "--out",
        out.path().to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let observed = r["splits"][0]["observed"].as_array().unwrap();
    assert_eq!(observed.len(), 2);
    let acc = observed[0]["accuracy"].as_f64().unwrap();
    assert!(acc > 30.0 && acc < 100.0, "{acc}");
}

#[test]
fn merged_split_results_equal_the_all_splits_run() {
    // per-split reports (as from runs on different machines) merge into the table `--split all` gives
    let root = shared_data("50salads");
    let out = tempfile::tempdir().unwrap();
    let dir = |name: &str| out.path().join(name).to_str().unwrap().to_owned();
    let eval = |split: &str, dest: &str| {
        let o = mmant(&[
            "eval",
            "--data",
            root.to_str().unwrap(),
            "--split",
            split,
            "--baseline",
            "last-observed",
            "--out",
            &dir(dest),
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let all = eval("all", "all");
    for k in 1..=5 {
        eval(&k.to_string(), "each");
    }
    let file = |k: &str| dir(&format!("each/50salads_last-observed_action_split-{k}.json"));
    // given out of order: the merged table lists the splits in order
    let mut args = vec!["merge-results".to_owned(), "--out".into(), dir("merged"), "--json".into()];
    args.extend(["3", "1", "5", "2", "4"].map(file));
    let o = mmant(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let merged: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(merged["splits"], all["splits"]);
    let means = |r: &serde_json::Value| {
        r["mean"].as_array().unwrap().iter().map(|c| c["moc"].as_f64().unwrap()).collect::<Vec<_>>()
    };
    for (m, a) in means(&merged).iter().zip(means(&all)) {
        assert!((m - a).abs() < 1e-9, "{m} vs {a}");
    }
    assert!(out.path().join("merged/50salads_last-observed_action_split-1+2+3+4+5.json").is_file());

    // a split given twice would weigh twice in the mean: refused, naming it
    let twice = [file("1"), file("2"), file("1")];
    let o = mmant(&["merge-results", "--out", &dir("bad"), &twice[0], &twice[1], &twice[2]]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("split 1 is in more than one report"), "{}", stderr(&o));
    // another method's results do not mix
    let o = mmant(&[
        "eval",
        "--data",
        root.to_str().unwrap(),
        "--split",
        "2",
        "--baseline",
        "transition-prior",
        "--out",
        &dir("tp"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tp = dir("tp/50salads_transition-prior_action_split-2.json");
    let o = mmant(&["merge-results", "--out", &dir("bad"), &file("1"), &tp]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("method: expected last-observed, found transition-prior"),
        "{}",
        stderr(&o)
    );
    // not a result file
    let o =
        mmant(&["merge-results", "--out", &dir("bad"), root.join("mapping.txt").to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("mapping.txt: expected the JSON `mmant eval` writes"),
        "{}",
        stderr(&o)
    );
}
