//! Bad input at the command line: clear messages, no panics.

use crate::common::*;

#[test]
fn missing_dataset_is_a_clear_error() {
    let o = mmant(&["data", "check", "/nonexistent/dataset"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("/nonexistent/dataset: not a dataset root: no such folder"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unknown_split_level_and_bad_fractions() {
    let root = shared_data("50salads");
    let r = root.to_str().unwrap();
    let o = mmant(&["eval", "--data", r, "--split", "9", "--baseline", "last-observed"]);
    assert!(stderr(&o).contains("unknown split '9'; known: all, 1, 2, 3, 4, 5"), "{}", stderr(&o));
    let o = mmant(&["eval", "--data", r, "--level", "fine", "--baseline", "last-observed"]);
    assert!(stderr(&o).contains("unknown level 'fine'; known: action"), "{}", stderr(&o));
    let o = mmant(&["eval", "--data", r, "--alphas", "0,0.2", "--baseline", "last-observed"]);
    assert!(
        stderr(&o).contains("--alphas: expected fractions in (0, 1], found 0"),
        "{}",
        stderr(&o)
    );
    let o = mmant(&["eval", "--data", r]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--baseline"), "{}", stderr(&o));
}

#[test]
fn broken_label_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("groundTruth")).unwrap();
    std::fs::create_dir_all(d.join("splits")).unwrap();
    std::fs::write(d.join("mapping.txt"), "0 a\n1 b\n").unwrap();
    std::fs::write(d.join("groundTruth/v1.txt"), "a\na\nb\n").unwrap();
    std::fs::write(d.join("groundTruth/v2.txt"), b"a\n\xff\xfe\x00\n").unwrap();
    std::fs::write(d.join("groundTruth/v3.txt"), "a\nc\nc\n").unwrap();
    std::fs::write(d.join("splits/train.split1.bundle"), "v1.txt\n").unwrap();
    std::fs::write(d.join("splits/test.split1.bundle"), "v2.txt\nv3.txt\n").unwrap();
    let o = mmant(&["data", "check", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("v2.txt:2: expected UTF-8 text, found invalid byte at column 1"), "{out}");
    assert!(
        out.contains("v3.txt:2: unknown label 'c' at frame 1 (2 frames in this file)"),
        "{out}"
    );
    let o = mmant(&[
        "eval",
        "--data",
        d.to_str().unwrap(),
        "--baseline",
        "last-observed",
        "--out",
        d.join("r").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("v2.txt:2: expected UTF-8 text"), "{}", stderr(&o));
}

/// The help says what a new user needs first: the viewer, the demo, what each flag is.
#[test]
fn help_names_the_viewer_the_demo_and_every_method() {
    let help = stdout(&mmant(&["--help"]));
    assert!(help.contains("viewer") && help.contains("embedded demo"), "{help}");
    let extract = stdout(&mmant(&["extract", "--help"]));
    assert!(extract.contains("The CNN whose pooled features are extracted"), "{extract}");
    let o = mmant(&["eval", "--data", shared_data("50salads").to_str().unwrap()]);
    let err = stderr(&o);
    assert!(
        err.contains("--baseline")
            && err.contains("--checkpoint")
            && err.contains("--segmentation"),
        "eval without a method names all three: {err}"
    );
}

/// Messages that used to mislead: each names what it found.
#[test]
fn messages_say_what_was_found() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = d.join("file.txt");
    std::fs::write(&file, "0 SIL\n").unwrap();
    // a file given as the dataset root
    let o = mmant(&["data", "check", file.to_str().unwrap()]);
    assert!(stderr(&o).contains("a file, not a folder"), "{}", stderr(&o));
    // an existing file as --out
    let data = shared_data("50salads");
    let o = mmant(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--split",
        "1",
        "--baseline",
        "last-observed",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(stderr(&o).contains("a file is there: the output goes to a folder"), "{}", stderr(&o));
    // a folder as the mapping file
    let (_demo, labels, _mapping, model) = mmant::demo::files().unwrap();
    let o = mmant(&["embed-labels", d.to_str().unwrap(), "--out", "x.safetensors"]);
    assert!(stderr(&o).contains("expected a text file, found a folder"), "{}", stderr(&o));
    // a corrupt safetensors beside a good description
    let ckpt = d.join("broken");
    std::fs::create_dir(&ckpt).unwrap();
    std::fs::copy(model.with_extension("json"), ckpt.join("model.json")).unwrap();
    std::fs::write(ckpt.join("model.safetensors"), [0xffu8; 64]).unwrap();
    let csv = d.join("o.csv");
    let predict = |labels: &std::path::Path, ckpt: &std::path::Path| {
        mmant(&[
            "predict",
            labels.to_str().unwrap(),
            "--checkpoint",
            ckpt.to_str().unwrap(),
            "--alpha",
            "0.3",
            "--csv",
            csv.to_str().unwrap(),
        ])
    };
    let err = stderr(&predict(&labels, &ckpt));
    assert!(err.contains("not a valid safetensors file") && err.contains("header of"), "{err}");
    // a label outside the checkpoint's vocabulary (there is no mapping file here)
    let odd = d.join("odd.txt");
    std::fs::write(&odd, "SIL\nfly_to_the_moon\n").unwrap();
    let err = stderr(&predict(&odd, &model));
    assert!(err.contains("a label from the checkpoint's vocabulary"), "{err}");
}
