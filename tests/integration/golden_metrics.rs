//! MS-TCN segmentation metrics on the real MS-TCN outputs of split 1, against golden numbers
//! from an independent numpy implementation (the accuracies are the 68.1 % and 77.5 % that
//! ../shared/data/README.md states):
//!   python3 scripts/reference/segmentation_metrics.py ../shared/data/<ds> ../shared/data/<ds>/predictions_mstcn_split1 1

use crate::common::*;

#[test]
fn segmentation_metrics_match_the_numpy_reference() {
    let golden = [
        ("breakfast", [68.1337575333, 60.4307986791, 52.7799530149, 48.9036805012, 39.8981989037]),
        ("50salads", [77.4547320084, 66.9980279980, 73.1808731809, 71.1018711019, 63.6174636175]),
    ];
    for (name, expected) in golden {
        let root = shared_data(name);
        let out = tempfile::tempdir().unwrap();
        let pred = root.join("predictions_mstcn_split1");
        let o = mmant(&[
            "eval",
            "--data",
            root.to_str().unwrap(),
            "--split",
            "1",
            "--segmentation",
            pred.to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for (key, want) in ["accuracy", "edit", "f1_10", "f1_25", "f1_50"].iter().zip(expected) {
            let got = r["scores"][key].as_f64().unwrap();
            assert!((got - want).abs() < 1e-6, "{name} {key}: {got} vs numpy {want}");
        }
    }
}
