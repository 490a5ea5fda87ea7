//! The field's annotation formats end to end: real Breakfast labels through ELAN and Label
//! Studio and back unchanged, files written by others (a hand-written EAF 3.0, one written by
//! pympi, a Label Studio export) open with their levels, and an EPIC-style segment table
//! becomes one MS-TCN file per video.

use std::path::{Path, PathBuf};

use mmant::annotation::formats::{self, ReadOptions};
use mmant::annotation::{Annotation, Clock, Session};

use crate::common::{mmant, shared_data, stderr, stdout};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/annotations").join(name)
}

fn spans(doc: &Annotation, level: usize) -> Vec<(String, usize, usize)> {
    let l = &doc.levels[level];
    l.track.segments().iter().map(|s| (l.label_name(s.label).to_owned(), s.start, s.end)).collect()
}

/// Expected spans, owned like [`spans`]'s.
fn own(v: &[(&str, usize, usize)]) -> Vec<(String, usize, usize)> {
    v.iter().map(|(l, a, b)| ((*l).to_owned(), *a, *b)).collect()
}

fn run_ok(args: &[&str]) -> String {
    let o = mmant(args);
    assert!(o.status.success(), "mmant {args:?}: {}{}", stdout(&o), stderr(&o));
    stdout(&o)
}

#[test]
fn breakfast_labels_go_through_elan_and_label_studio_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let bf = shared_data("breakfast");
    let mapping = bf.join("mapping.txt");
    let mut names: Vec<PathBuf> =
        std::fs::read_dir(bf.join("groundTruth")).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    // the first, a long one and the last (different lengths and segment counts)
    for gt in [&names[0], &names[names.len() / 2], &names[names.len() - 1]] {
        let s = |p: &Path| p.to_str().unwrap().to_owned();
        let (eaf, ls) = (dir.path().join("v.eaf"), dir.path().join("v.json"));
        let (back_eaf, back_ls) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
        run_ok(&["convert", &s(gt), &s(&eaf), "--fps", "15", "--mapping", &s(&mapping)]);
        run_ok(&[
            "convert",
            &s(&eaf),
            &s(&back_eaf),
            "--fps",
            "15",
            "--mapping",
            &s(&mapping),
            "--strict",
        ]);
        run_ok(&["convert", &s(gt), &s(&ls)]);
        run_ok(&["convert", &s(&ls), &s(&back_ls), "--mapping", &s(&mapping), "--strict"]);
        let want = std::fs::read(gt).unwrap();
        assert!(std::fs::read(&back_eaf).unwrap() == want, "{} through ELAN differs", gt.display());
        assert!(
            std::fs::read(&back_ls).unwrap() == want,
            "{} through Label Studio differs",
            gt.display()
        );
        // the ELAN file declares the whole vocabulary as its tier's controlled vocabulary
        let text = std::fs::read_to_string(&eaf).unwrap();
        assert_eq!(text.matches("<CV_ENTRY_ML").count(), 48, "Breakfast's 48 labels");
    }
}

#[test]
fn a_hand_written_eaf_3_file_opens_with_its_levels() {
    let p = fixture("handwritten_eaf30.eaf");
    // the viewer's path: a session at the video's rate (25 fps); with no video open the
    // annotation ends where its last annotation ends (3000 ms, frame 75)
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("tea.eaf");
    std::fs::copy(&p, &copy).unwrap();
    let (s, _) = Session::open(&copy, &[], false, 25.0).unwrap();
    let d = &s.doc;
    let names: Vec<&str> = d.levels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["task", "steps"], "the symbolic tier is not a level");
    assert_eq!(d.levels[1].parent, Some(0));
    // 1210 ms = frame 30.25 → 30; 2019 ms = 50.475 → 50; the gap between is background
    assert_eq!(
        spans(d, 0),
        own(&[("make_tea", 0, 30), ("background", 30, 50), ("milk & sugar", 50, 75)])
    );
    // unaligned slots spread evenly over [0, 1210) ms: 403 and 807 ms → frames 10 and 20
    assert_eq!(
        spans(d, 1),
        own(&[
            ("take_cup", 0, 10),
            ("add_teabag", 10, 20),
            ("pour_water", 20, 30),
            ("background", 30, 50),
            ("background", 50, 75)
        ])
    );
    // the controlled vocabulary is the level's vocabulary, in order
    assert_eq!(d.levels[0].vocab[..3], ["idle", "make_tea", "milk & sugar"]);
    // with the video's frames known (its frame times), a gap to its end is background and a
    // segment past its end is an error naming the annotation
    let video = |n: usize| Clock::from_times((0..n).map(|k| k as f64 / 25.0).collect(), 25.0);
    let bytes = std::fs::read(&p).unwrap();
    let opts = |c: &Clock| ReadOptions {
        clock: Some(c.clone()),
        frames: c.frames(),
        ..Default::default()
    };
    let d = formats::read_with(&p, &bytes, &opts(&video(100))).unwrap();
    assert_eq!(spans(&d, 0).last().unwrap(), &("background".to_owned(), 75, 100));
    let e = formats::read_with(&p, &bytes, &opts(&video(60))).unwrap_err().to_string();
    assert!(
        e.contains("(annotation a2 of tier task): level task: segment \"milk & sugar\" ends at frame 75, past the video's end (60 frames)"),
        "{e}"
    );
}

#[test]
fn an_eaf_written_by_pympi_reads_times_between_frames_to_the_nearest_frame() {
    let p = fixture("pympi_written.eaf");
    let bytes = std::fs::read(&p).unwrap();
    let opts = ReadOptions { clock: Some(Clock::Fps(15.0)), ..Default::default() };
    let d = formats::read_with(&p, &bytes, &opts).unwrap();
    // 1990 ms = 29.85 frames → 30, 4005 → 60.08 → 60, 8033 → 120.495 → 120, 9000 → 135,
    // 10000 → 150
    assert_eq!(
        spans(&d, 0),
        own(&[
            ("SIL", 0, 30),
            ("take_bowl", 30, 60),
            ("pour_cereals", 60, 120),
            ("SIL", 120, 135),
            ("pour_milk", 135, 150)
        ])
    );
    assert_eq!(d.levels[1].name, "hands");
    assert_eq!(d.levels[1].parent, Some(0));
    // the gap in "steps" took the vocabulary's background class, SIL; "hands" has none
    let hands = spans(&d, 1);
    assert!(
        hands.contains(&("reach".into(), 30, 45)) && hands.contains(&("tilt".into(), 68, 120)),
        "{hands:?}"
    );
    assert!(hands.iter().all(|(_, a, b)| a < b));
}

#[test]
fn a_label_studio_export_opens_in_the_viewer_with_its_levels() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("export.json");
    std::fs::copy(fixture("label_studio_export.json"), &p).unwrap();
    let app = mmant::viewer::viewer_app(Some(&p), None, None, None, Some(15.0)).unwrap();
    assert!(app.annotation().is_some(), "open for editing: {}", app.state.status);
    assert_eq!(app.state.level, "actions");
    assert_eq!(app.state.extra_levels.len(), 1);
    assert_eq!(app.state.extra_levels[0].name, "hands");
    let gt = app.state.ground_truth.as_ref().unwrap();
    assert_eq!(gt.len(), 150);
    let name = |f: usize| app.state.vocab.name(gt[f]).unwrap().to_owned();
    assert_eq!(
        (name(0), name(39), name(40), name(95), name(100)),
        (
            "take_cup".into(),
            "take_cup".into(),
            "add_teabag".into(),
            "background".into(),
            "pour_water".into()
        )
    );
    // and the ELAN file, with a mapping that orders the vocabulary
    let eaf = dir.path().join("tea.eaf");
    std::fs::copy(fixture("handwritten_eaf30.eaf"), &eaf).unwrap();
    let mapping = dir.path().join("mapping.txt");
    std::fs::write(&mapping, "0 background\n1 milk & sugar\n2 make_tea\n3 idle\n").unwrap();
    let app =
        mmant::viewer::viewer_app(Some(&eaf), Some(&mapping), None, None, Some(25.0)).unwrap();
    assert!(app.annotation().is_some(), "{}", app.state.status);
    assert_eq!(
        app.state.ground_truth.as_ref().unwrap()[..31].iter().filter(|&&l| l == 2).count(),
        30
    );
    assert_eq!(app.state.extra_levels[0].name, "steps");
}

#[test]
fn an_epic_style_table_becomes_one_mstcn_file_per_video() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("EPIC_100_sample.csv");
    // EPIC-KITCHENS-100's columns; frames counted from 1, the stop frame included
    std::fs::write(
        &table,
        "narration_id,participant_id,video_id,narration_timestamp,start_timestamp,stop_timestamp,start_frame,stop_frame,narration,verb,verb_class,noun,noun_class,all_nouns,all_noun_classes\n\
         P01_01_0,P01,P01_01,00:00:00.000,00:00:00.10,00:00:00.50,7,30,open door,open,3,door,8,['door'],[8]\n\
         P01_01_1,P01,P01_01,00:00:00.500,00:00:00.52,00:00:01.00,32,60,turn on light,turn-on,6,light,114,['light'],[114]\n\
         P02_03_0,P02,P02_03,00:00:00.000,00:00:00.00,00:00:00.40,1,24,take plate,take,0,plate,2,['plate'],[2]\n",
    )
    .unwrap();
    let out = dir.path().join("groundTruth");
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let said = run_ok(&[
        "convert",
        &s(&table),
        &s(&out),
        "--to",
        "mstcn",
        "--video-col",
        "video_id",
        "--start-col",
        "start_frame",
        "--stop-col",
        "stop_frame",
        "--frame-base",
        "1",
        "--stop-inclusive",
        "--label-col",
        "verb,noun",
        "--background",
        "SIL",
    ]);
    assert!(
        said.contains("P01_01.txt: 60 frames") && said.contains("P02_03.txt: 24 frames"),
        "{said}"
    );
    let p01: Vec<String> = std::fs::read_to_string(out.join("P01_01.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(p01.len(), 60);
    assert_eq!(
        (p01[5].as_str(), p01[6].as_str(), p01[29].as_str()),
        ("SIL", "open_door", "open_door")
    );
    assert_eq!(
        (p01[30].as_str(), p01[31].as_str(), p01[59].as_str()),
        ("SIL", "turn-on_light", "turn-on_light")
    );
    // the same by timestamps at 60 fps: start 0.10 s = frame 6, stop 0.50 s = 30
    let by_time = dir.path().join("by_time");
    let (table_s, by_time_s) = (s(&table), s(&by_time));
    let by_timestamps = [
        "convert",
        &table_s,
        &by_time_s,
        "--to",
        "mstcn",
        "--video-col",
        "video_id",
        "--start-col",
        "start_timestamp",
        "--stop-col",
        "stop_timestamp",
        "--label-col",
        "verb,noun",
        "--background",
        "SIL",
    ];
    run_ok(&[&by_timestamps[..], &["--fps", "60"]].concat());
    let t: Vec<String> = std::fs::read_to_string(by_time.join("P01_01.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        (t[5].as_str(), t[6].as_str(), t[29].as_str(), t[31].as_str()),
        ("SIL", "open_door", "open_door", "turn-on_light")
    );
    // a timestamp table without a rate is a clear error
    let o = mmant(&by_timestamps);
    assert!(!o.status.success());
    assert!(
        stderr(&o)
            .contains("line 2: start_timestamp: the timestamp \"00:00:00.10\" needs a frame rate"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn elan_on_a_variable_frame_rate_video_lands_on_the_frames_shown() {
    // frames at 0, 40, 80 ms, then every 80 ms: ms × mean fps would be off by several frames
    let times: Vec<f64> =
        (0..3).map(|k| k as f64 * 0.04).chain((1..40).map(|k| 0.08 + k as f64 * 0.08)).collect();
    let clock = Clock::from_times(times.clone(), 12.5);
    let doc_text = |a: u32, b: u32| {
        format!(
            r#"<ANNOTATION_DOCUMENT><HEADER TIME_UNITS="milliseconds"/><TIME_ORDER>
<TIME_SLOT TIME_SLOT_ID="t0" TIME_VALUE="0"/><TIME_SLOT TIME_SLOT_ID="t1" TIME_VALUE="{a}"/><TIME_SLOT TIME_SLOT_ID="t2" TIME_VALUE="{b}"/></TIME_ORDER>
<TIER TIER_ID="a"><ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="x" TIME_SLOT_REF1="t0" TIME_SLOT_REF2="t1"><ANNOTATION_VALUE>one</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="y" TIME_SLOT_REF1="t1" TIME_SLOT_REF2="t2"><ANNOTATION_VALUE>two</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION></TIER></ANNOTATION_DOCUMENT>"#
        )
    };
    let p = PathBuf::from("vfr.eaf");
    // 880 ms is frame 12's start (0.08 + 10 × 0.08), 1600 ms frame 21's
    let text = doc_text(880, 1600);
    let opts =
        ReadOptions { clock: Some(clock.clone()), frames: clock.frames(), ..Default::default() };
    let d = formats::read_with(&p, text.as_bytes(), &opts).unwrap();
    assert_eq!(d.frames(), 42);
    assert_eq!(spans(&d, 0)[..2], [("one".into(), 0, 12), ("two".into(), 12, 21)]);
    // and what we write back on that clock reads back the same
    let again = formats::write(&d, formats::Format::Eaf, &clock);
    assert_eq!(formats::read_with(&p, &again, &opts).unwrap().levels, d.levels);
}
