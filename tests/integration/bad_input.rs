//! Fuzz-style tests: truncated, empty, binary and mis-shaped files fed to every parser must give
//! an error (naming the file) or a value, never a panic.

use std::path::Path;

use mmant::annotation::formats::{self, ReadOptions};
use mmant::annotation::intervals::Assembly;
use mmant::annotation::segment_table::{self, TableColumns};
use mmant::data::{
    Dataset, Features, FrameLabels, Vocabulary, features::write_npy_f32, labels::parse_columns,
    splits::read_list,
};
use proptest::prelude::*;

fn parse_everything(dir: &Path, bytes: &[u8]) {
    let p = dir.join("input.txt");
    std::fs::write(&p, bytes).unwrap();
    let name = p.display().to_string();
    let check = |r: Result<(), mmant::data::DataError>| {
        if let Err(e) = r {
            assert!(e.to_string().contains(&name), "error does not name the file: {e}");
        }
    };
    check(Vocabulary::read(&p).map(drop));
    check(FrameLabels::read(&p).map(drop));
    check(FrameLabels::parse(&p, bytes).map(drop));
    check(parse_columns(&p, bytes, 3).map(drop));
    check(read_list(&p).map(drop));
    // the annotation formats, each under the extension that selects it, and as a segment table
    // (in a folder of their own: input.json beside input.npy would be its sidecar)
    let clock = mmant::annotation::Clock::Fps(25.0);
    let sub = dir.join("annotations");
    std::fs::create_dir_all(&sub).unwrap();
    for ext in ["eaf", "json", "csv", "txt"] {
        let p = sub.join(format!("input.{ext}"));
        std::fs::write(&p, bytes).unwrap();
        let opts = ReadOptions { clock: Some(clock.clone()), ..Default::default() };
        if let Err(e) = formats::read_with(&p, bytes, &opts) {
            assert!(e.to_string().contains(&format!("input.{ext}")), "{e}");
        }
        let cols =
            TableColumns { labels: vec!["label".into(), "verb".into()], ..Default::default() };
        if let Err(e) = segment_table::read(&p, bytes, &cols, Some(&clock), &Assembly::default()) {
            assert!(e.to_string().contains(&format!("input.{ext}")), "{e}");
        }
    }
    let npy = dir.join("input.npy");
    std::fs::write(&npy, bytes).unwrap();
    for dim in [None, Some(1), Some(2048)] {
        if let Err(e) = Features::read(&npy, dim) {
            assert!(e.to_string().contains("input.npy"), "{e}");
        }
        let _ = Features::read_shape(&npy, dim);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let dir = tempfile::tempdir().unwrap();
        parse_everything(dir.path(), &bytes);
    }

    #[test]
    fn random_markup_never_panics(text in "(<[A-Z_]{1,12}( [A-Z_]{1,8}=\"[a-z0-9]{0,4}\")?/?>|</[A-Z_]{1,8}>|[{}\\[\\]\":,0-9a-z ]{0,6}){0,40}") {
        let dir = tempfile::tempdir().unwrap();
        parse_everything(dir.path(), text.as_bytes());
    }

    #[test]
    fn random_text_never_panics(text in "[a-z0-9_ ,#:\\n\\r\\t]{0,300}") {
        let dir = tempfile::tempdir().unwrap();
        parse_everything(dir.path(), text.as_bytes());
    }
}

#[test]
fn every_truncation_of_real_files_is_handled() {
    let dir = tempfile::tempdir().unwrap();
    let breakfast = crate::common::shared_data("breakfast");
    let real = [
        std::fs::read(breakfast.join("mapping.txt")).unwrap(),
        std::fs::read(breakfast.join("splits/test.split1.bundle")).unwrap()[..2000].to_vec(),
        std::fs::read(breakfast.join("predictions_mstcn_split1/P03_cam01_P03_cereals.txt"))
            .unwrap()[..3000]
            .to_vec(),
    ];
    for bytes in &real {
        for cut in 0..bytes.len() {
            parse_everything(dir.path(), &bytes[..cut]);
        }
    }
    // the annotation fixtures (ELAN, Label Studio), cut everywhere
    let fixtures =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/annotations");
    for name in ["handwritten_eaf30.eaf", "pympi_written.eaf", "label_studio_export.json"] {
        let bytes = std::fs::read(fixtures.join(name)).unwrap();
        let ext = name.rsplit('.').next().unwrap();
        let p = dir.path().join(format!("cut.{ext}"));
        let opts =
            ReadOptions { clock: Some(mmant::annotation::Clock::Fps(25.0)), ..Default::default() };
        assert!(formats::read_with(&p, &bytes, &opts).is_ok(), "{name} reads whole");
        for cut in 0..bytes.len() {
            if let Err(e) = formats::read_with(&p, &bytes[..cut], &opts) {
                assert!(e.to_string().contains(&format!("cut.{ext}")), "{e}");
            }
        }
    }
    // a real .npy written by us, cut everywhere
    let npy = dir.path().join("f.npy");
    write_npy_f32(&npy, [16, 5], &[0.25; 80]).unwrap();
    let good = std::fs::read(&npy).unwrap();
    for cut in 0..good.len() {
        std::fs::write(&npy, &good[..cut]).unwrap();
        assert!(
            Features::read(&npy, Some(16)).is_err(),
            "a cut at {cut} of {} bytes loaded",
            good.len()
        );
    }
}

#[test]
fn datasets_with_broken_pieces_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("groundTruth")).unwrap();
    std::fs::create_dir_all(d.join("splits")).unwrap();
    // no splits
    std::fs::write(d.join("mapping.txt"), "0 a\n").unwrap();
    let e = Dataset::open(d).unwrap_err().to_string();
    assert!(e.contains("splits: expected train.split<K>.bundle files, found none"), "{e}");
    // binary mapping
    std::fs::write(d.join("mapping.txt"), b"\x00\x01\x02").unwrap();
    let e = Dataset::open(d).unwrap_err().to_string();
    assert!(e.contains("mapping.txt:1:"), "{e}");
    // a bundle naming a folder
    std::fs::write(d.join("mapping.txt"), "0 a\n").unwrap();
    std::fs::write(d.join("splits/train.split1.bundle"), "x/../../etc.txt\n").unwrap();
    std::fs::write(d.join("splits/test.split1.bundle"), "v.txt\n").unwrap();
    let e = Dataset::open(d).unwrap_err().to_string();
    assert!(e.contains("train.split1.bundle:1: expected a file name without folders"), "{e}");
}
