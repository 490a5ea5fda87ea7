//! Annotation that never loses work: a process killed at random moments while it edits and saves
//! leaves the old file or the new one (never a torn one) and a journal that restores every edit it
//! reported done; recovery on open; bad input; the anticipation follows the edits in the viewer.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mmant::annotation::formats::{self, Format};
use mmant::annotation::{Annotation, Edit, Session};
use mmant::data::Vocabulary;

fn vocab() -> Vec<(String, Vocabulary)> {
    vec![("action".to_owned(), Vocabulary::from_names(["SIL", "pour", "stir", "cut"]))]
}

fn write_labels(dir: &Path) -> PathBuf {
    let p = dir.join("video.txt");
    std::fs::write(
        &p,
        "SIL\n".repeat(30) + &"pour\n".repeat(50) + &"stir\n".repeat(40) + &"SIL\n".repeat(30),
    )
    .unwrap();
    p
}

/// The i-th edit of a deterministic sequence (a small LCG: the child and the parent agree).
fn nth_edit(i: u64) -> Edit {
    let mut x = i.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = |m: u64| {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (x >> 33) % m
    };
    let frame = next(150) as usize;
    let label = ["SIL", "pour", "stir", "cut"][next(4) as usize].to_owned();
    match next(5) {
        0 => Edit::Split { level: 0, frame },
        1 => Edit::MergeNext { level: 0, frame },
        2 => Edit::Relabel { level: 0, frame, label },
        3 => Edit::Delete { level: 0, frame },
        _ => Edit::Paint {
            level: 0,
            start: frame,
            end: (frame + 1 + next(20) as usize).min(150),
            label,
        },
    }
}

/// The annotation after the first `n` edits of the sequence (refused ones change nothing).
fn expected_after(base: &Annotation, n: u64) -> Annotation {
    let mut d = base.clone();
    for i in 0..n {
        let _ = d.apply(&nth_edit(i));
    }
    d
}

/// The child: edits for ever, saving every 7th edit, printing the number of edits done (= in
/// the journal) after each. Run by `a_killed_editor_never_loses_a_reported_edit`.
#[test]
#[ignore]
fn editor_child_process() {
    // not a test of its own: run alone (e.g. under --include-ignored) it fails rather than pass
    let path = std::env::var_os("MMANT_ANNOTATION_CHILD").expect(
        "MMANT_ANNOTATION_CHILD: this is the editor that a_killed_editor_never_loses_a_reported_edit starts and kills",
    );
    let (mut s, _) = Session::open(Path::new(&path), &vocab(), true, 15.0).unwrap();
    let start: u64 = std::env::var("MMANT_ANNOTATION_START").unwrap().parse().unwrap();
    for i in start.. {
        match s.edit(nth_edit(i)) {
            Ok(()) | Err(mmant::annotation::SessionError::Edit(_)) => {}
            Err(e) => panic!("{e}"),
        }
        println!("done {}", i + 1);
        if i % 7 == 6 {
            s.save().unwrap();
        }
    }
}

#[test]
fn a_killed_editor_never_loses_a_reported_edit() {
    let dir = tempfile::tempdir().unwrap();
    // the segment CSV keeps every segment boundary (an MS-TCN file cannot hold a split without a
    // relabel, so a reload of one is not the state the editor had)
    let txt = write_labels(dir.path());
    let base = formats::read(&txt, &std::fs::read(&txt).unwrap(), &vocab(), true).unwrap();
    let labels = dir.path().join("video.csv");
    std::fs::write(&labels, formats::write(&base, Format::SegmentCsv, 15.0)).unwrap();
    let mut done = 0u64;
    for round in 0..60u64 {
        let before = std::fs::read(&labels).unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "annotation::editor_child_process",
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("MMANT_ANNOTATION_CHILD", &labels)
            .env("MMANT_ANNOTATION_START", done.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // kill it after a pseudo-random number of reported edits, mid-whatever it is doing
        let stop_after = 3 + (round * 7919) % 23;
        let mut reported = done;
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let started = Instant::now();
        while let Some(Ok(line)) = lines.next() {
            if let Some(n) = line.strip_prefix("done ") {
                reported = n.parse().unwrap();
                if reported >= done + stop_after {
                    break;
                }
            }
            assert!(started.elapsed() < Duration::from_secs(60), "the child hangs");
        }
        // a few more microseconds of work, then SIGKILL
        std::thread::sleep(Duration::from_micros((round * 337) % 900));
        child.kill().unwrap();
        child.wait().unwrap();
        // everything it printed before it died: the last report is the last edit known done
        for line in lines.map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("done ") {
                reported = n.parse().unwrap();
            }
        }
        // the file on disk parses (the old or a newer complete save, never torn)
        let bytes = std::fs::read(&labels).unwrap();
        let on_disk = formats::read(&labels, &bytes, &vocab(), true)
            .unwrap_or_else(|e| panic!("round {round}: torn file: {e}"));
        let saved_points: Vec<u64> = (0..=reported + 2)
            .filter(|n| expected_after(&base, *n).levels[0].track == on_disk.levels[0].track)
            .collect();
        assert!(
            bytes == before || !saved_points.is_empty(),
            "round {round}: the file is neither the old one nor a saved state (done {done}, reported {reported}; any match up to +40: {:?})",
            (0..reported + 40)
                .filter(|n| expected_after(&base, *n).levels[0].track == on_disk.levels[0].track)
                .collect::<Vec<_>>()
        );
        // reopening replays the journal: every reported edit is there (one more may have been
        // journaled before its report)
        let (s, _) = Session::open(&labels, &vocab(), true, 15.0).unwrap();
        let got = &s.doc.levels[0].track;
        let n =
            (reported..=reported + 1).find(|&n| expected_after(&base, n).levels[0].track == *got);
        assert!(
            n.is_some(),
            "round {round}: recovered state is not the state after edit {reported} or {}",
            reported + 1
        );
        done = n.unwrap();
        drop(s);
    }
    assert!(done > 50, "the rounds made {done} edits");
}

#[test]
fn unsaved_edits_are_recovered_on_the_next_open_and_saving_clears_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let labels = write_labels(dir.path());
    let original = std::fs::read(&labels).unwrap();
    {
        let (mut s, note) = Session::open(&labels, &vocab(), true, 15.0).unwrap();
        assert!(note.is_none());
        s.edit(Edit::Split { level: 0, frame: 10 }).unwrap();
        s.edit(Edit::Relabel { level: 0, frame: 10, label: "cut".into() }).unwrap();
        s.edit(Edit::Paint { level: 0, start: 100, end: 110, label: "pour".into() }).unwrap();
        assert!(s.undo().unwrap());
        // dropped without saving: as a crash would
    }
    assert_eq!(std::fs::read(&labels).unwrap(), original, "nothing saved yet");
    let (mut s, note) = Session::open(&labels, &vocab(), true, 15.0).unwrap();
    let note = note.expect("a recovery message");
    // three edits and one undo
    assert!(note.contains("recovered 4 unsaved changes"), "{note}");
    let labels_now = s.doc.levels[0].track.labels();
    assert_eq!(&labels_now[8..12], &[0, 0, 3, 3]);
    assert_eq!(labels_now[105], 2, "the undone paint stays undone");
    s.save().unwrap();
    drop(s);
    assert!(
        !dir.path().join("video.txt.journal").exists(),
        "a journal with nothing unsaved is removed on close"
    );
    let (s, note) = Session::open(&labels, &vocab(), true, 15.0).unwrap();
    assert!(note.is_none(), "{note:?}");
    assert_eq!(s.doc.levels[0].track.labels(), labels_now);
    assert_eq!(std::fs::read_to_string(&labels).unwrap().lines().nth(10), Some("cut"));
}

#[test]
fn bad_input_is_a_clear_error_and_the_data_on_disk_stays_intact() {
    let dir = tempfile::tempdir().unwrap();
    // unknown label: file and line
    let p = dir.path().join("unknown.txt");
    std::fs::write(&p, "SIL\npour\nfly\n").unwrap();
    let e = Session::open(&p, &vocab(), true, 15.0).err().unwrap().to_string();
    assert_eq!(
        e,
        format!("{}: line 3: label \"fly\" is not in the action vocabulary", p.display())
    );
    // binary garbage
    let g = dir.path().join("garbage.txt");
    std::fs::write(&g, [0u8, 159, 146, 150, 255, 0, 1]).unwrap();
    let e = Session::open(&g, &vocab(), true, 15.0).err().unwrap().to_string();
    assert!(e.contains("garbage.txt") && e.contains("expected UTF-8 text"), "{e}");
    // a length that disagrees with the video: both lengths
    let labels = write_labels(dir.path());
    let (mut s, _) = Session::open(&labels, &vocab(), true, 15.0).unwrap();
    assert_eq!(
        s.doc.length_mismatch(155).unwrap(),
        "the annotation of video has 150 frames, the video 155"
    );
    // a save that cannot write (the temporary file's place is taken): error, old file intact
    s.edit(Edit::Split { level: 0, frame: 5 }).unwrap();
    let tmp = dir.path().join(format!(".video.txt.tmp{}", std::process::id()));
    std::fs::create_dir(&tmp).unwrap();
    let before = std::fs::read(&labels).unwrap();
    let e = s.save().err().unwrap().to_string();
    assert!(e.contains("video.txt") && e.contains("the file on disk is unchanged"), "{e}");
    assert_eq!(std::fs::read(&labels).unwrap(), before);
    assert_eq!(s.unsaved(), 1, "the edit is still unsaved (and in the journal)");
    std::fs::remove_dir(&tmp).unwrap();
    s.save().unwrap();
    // a journal that cannot be created: the file is not opened for editing
    let other = dir.path().join("other.txt");
    std::fs::copy(&labels, &other).unwrap();
    std::fs::create_dir(dir.path().join("other.txt.journal")).unwrap();
    let e = Session::open(&other, &vocab(), true, 15.0).err().unwrap().to_string();
    assert!(e.contains("other.txt.journal"), "{e}");
    // an MS-TCN file holds one level: a second level is refused at save, the file intact
    let (mut s, _) = Session::open(&labels, &vocab(), true, 15.0).unwrap();
    s.edit(Edit::AddLevel { name: "fine".into(), parent: 0, label: "x".into() }).unwrap();
    let before = std::fs::read(&labels).unwrap();
    let e = s.save().err().unwrap().to_string();
    assert!(e.contains("save it as a segment CSV"), "{e}");
    assert_eq!(std::fs::read(&labels).unwrap(), before);
    let csv = dir.path().join("video.csv");
    s.save_as(&csv, Format::SegmentCsv).unwrap();
    let back = formats::read(&csv, &std::fs::read(&csv).unwrap(), &[], false).unwrap();
    assert_eq!(back.levels.len(), 2);
}
