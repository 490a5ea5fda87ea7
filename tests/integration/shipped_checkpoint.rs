//! The shipped checkpoints reproduce their recorded scores: each one's MoC grid (α 0.2, 0.3;
//! ground-truth observation) on split 1 equals the one recorded beside it when it was made.
//! The demo checkpoint's is in docs/results/anticipation/ (recorded by
//! `scripts/experiments/anticipation-results`); those of the checkpoints trained on every video are in
//! docs/results/shipped/ (`mmant eval … --alphas 0.2,0.3 --out docs/results/shipped`; scores on
//! their own training data, so a check of the file, not a result).

use crate::common::*;

fn reproduces(dataset: &str, checkpoint: &str, recorded: &str) {
    let data = shared_data(dataset);
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let o = mmant(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--split",
        "1",
        "--checkpoint",
        root.join(checkpoint).to_str().unwrap(),
        "--alphas",
        "0.2,0.3",
        "--out",
        out.path().to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join(recorded)).unwrap()).unwrap();
    let cells = |v: &serde_json::Value| -> Vec<(f64, f64, f64)> {
        v["splits"][0]["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["alpha"].as_f64().unwrap(),
                    c["beta"].as_f64().unwrap(),
                    c["moc"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    let recorded = cells(&recorded);
    let got = cells(&got);
    assert_eq!(got.len(), 8);
    for (a, b, moc) in got {
        let (_, _, want) = recorded
            .iter()
            .find(|r| r.0 == a && r.1 == b)
            .copied()
            .unwrap_or_else(|| panic!("α {a} β {b} not recorded"));
        assert!(
            (moc - want).abs() < 0.05,
            "{checkpoint}: α {a} β {b}: MoC {moc:.3}, recorded {want:.3}"
        );
    }
}

#[test]
fn the_demo_checkpoint_reproduces_its_recorded_moc() {
    reproduces(
        "breakfast",
        "assets/demo/model",
        "docs/results/anticipation/breakfast_mmant_action_split-1.json",
    );
}

#[test]
fn the_50salads_checkpoint_reproduces_its_recorded_moc() {
    reproduces(
        "50salads",
        "assets/checkpoints/50salads/model",
        "docs/results/shipped/50salads_mmant_action_split-1.json",
    );
}

#[test]
fn the_breakfast_checkpoint_reproduces_its_recorded_moc() {
    reproduces(
        "breakfast",
        "assets/checkpoints/breakfast/model",
        "docs/results/shipped/breakfast_mmant_action_split-1.json",
    );
}

#[test]
fn the_breakfast_futr_variant_checkpoint_reproduces_its_recorded_moc() {
    reproduces(
        "breakfast",
        "assets/checkpoints/breakfast-futr-segq/model",
        "docs/results/shipped/breakfast_futr_action_split-1.json",
    );
}
