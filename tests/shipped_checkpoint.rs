//! The shipped demo checkpoint reproduces its recorded score: its MoC grid on Breakfast split 1
//! (ground-truth observation) equals the one in docs/results/anticipation/ (recorded by
//! `scripts/anticipation-results` when the checkpoint was trained).

mod common;
use common::*;

#[test]
fn the_demo_checkpoint_reproduces_its_recorded_moc() {
    let data = shared_data("breakfast");
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let o = mmant(&[
        "eval", "--data", data.to_str().unwrap(), "--split", "1", "--checkpoint", root.join("assets/demo/model").to_str().unwrap(),
        "--alphas", "0.2,0.3", "--out", out.path().to_str().unwrap(), "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let recorded: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join("docs/results/anticipation/breakfast_mmant_action_split-1.json")).unwrap()).unwrap();
    let cells = |v: &serde_json::Value| -> Vec<(f64, f64, f64)> {
        v["splits"][0]["cells"].as_array().unwrap().iter().map(|c| (c["alpha"].as_f64().unwrap(), c["beta"].as_f64().unwrap(), c["moc"].as_f64().unwrap())).collect()
    };
    let recorded = cells(&recorded);
    let got = cells(&got);
    assert_eq!(got.len(), 8);
    for (a, b, moc) in got {
        let (_, _, want) = recorded.iter().find(|r| r.0 == a && r.1 == b).copied().unwrap_or_else(|| panic!("α {a} β {b} not recorded"));
        assert!((moc - want).abs() < 0.05, "α {a} β {b}: MoC {moc:.3}, recorded {want:.3}");
    }
}
