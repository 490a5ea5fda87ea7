//! ELAN `.eaf` (EAF 3.0, the `annotation_document` schema, with the reader accepting 2.x too).
//!
//! Reading: every time-aligned tier is a level (`TIER_ID` → name, `PARENT_REF` → parent level;
//! tiers of symbolic types, whose annotations have no times of their own, are left out), a
//! tier's controlled vocabulary (through its linguistic type) → the level's vocabulary, in
//! order. Times are milliseconds; the [`Clock`] turns them into frames (a video's frame times, so
//! that a variable-frame-rate file lands on the frames a player shows). Unaligned time slots
//! (no `TIME_VALUE`, as ELAN writes inside subdivided tiers) are spread evenly between their
//! aligned neighbours in `TIME_ORDER`, as ELAN displays them. Frames no annotation covers take
//! the background label.
//!
//! Writing: one tier per level, one linguistic type and one controlled vocabulary per level, a
//! fine level as an `Included_In` child of its parent; every segment (background included) is
//! an annotation, so that a file read back is the same annotation.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use super::formats::FormatError;
use super::intervals::{self, Assembly, Interval, LevelIntervals};
use super::{Annotation, Clock};

/// The children of `n` named `tag`.
fn child<'a, 'input>(
    n: roxmltree::Node<'a, 'input>,
    tag: &'static str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'input>> {
    n.children().filter(move |c| c.has_tag_name(tag))
}

fn err(path: &Path, line: usize, msg: impl std::fmt::Display) -> FormatError {
    FormatError { path: path.to_owned(), line, message: msg.to_string() }
}

/// Reads an EAF document.
pub fn read(
    path: &Path,
    text: &str,
    clock: &Clock,
    opts: &Assembly,
) -> Result<Annotation, FormatError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        err(path, e.pos().row as usize, format!("expected ELAN XML, found malformed XML: {e}"))
    })?;
    let line = |n: roxmltree::Node| doc.text_pos_at(n.range().start).row as usize;
    let root = doc.root_element();
    if !root.has_tag_name("ANNOTATION_DOCUMENT") {
        return Err(err(
            path,
            line(root),
            format!("expected an ANNOTATION_DOCUMENT element, found <{}>", root.tag_name().name()),
        ));
    }
    let attr = |n: roxmltree::Node, name: &str| -> Result<String, FormatError> {
        n.attribute(name).map(str::to_owned).ok_or_else(|| {
            err(path, line(n), format!("expected a {name} attribute on <{}>", n.tag_name().name()))
        })
    };
    if let Some(h) = child(root, "HEADER").next() {
        let units = h.attribute("TIME_UNITS").unwrap_or("milliseconds");
        if units != "milliseconds" {
            return Err(err(
                path,
                line(h),
                format!("expected TIME_UNITS=\"milliseconds\", found {units:?}"),
            ));
        }
    }
    // time slots, unaligned ones interpolated between aligned neighbours
    let mut slots: Vec<(String, Option<f64>, usize)> = Vec::new();
    for order in child(root, "TIME_ORDER") {
        for ts in child(order, "TIME_SLOT") {
            let id = attr(ts, "TIME_SLOT_ID")?;
            let value = match ts.attribute("TIME_VALUE") {
                None => None,
                Some(v) => Some(v.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(
                    || err(path, line(ts), format!("time slot {id}: expected TIME_VALUE in milliseconds, found {v:?}")),
                )?),
            };
            slots.push((id, value, line(ts)));
        }
    }
    let mut ms: HashMap<&str, f64> = HashMap::with_capacity(slots.len());
    let mut prev: Option<(usize, f64)> = None;
    for (i, (id, value, l)) in slots.iter().enumerate() {
        let t = match value {
            Some(v) => *v,
            None => {
                let next = slots[i + 1..]
                    .iter()
                    .enumerate()
                    .find_map(|(j, s)| s.1.map(|v| (i + 1 + j, v)));
                match (prev, next) {
                    (Some((a, ta)), Some((b, tb))) => {
                        ta + (tb - ta) * (i - a) as f64 / (b - a) as f64
                    }
                    _ => {
                        return Err(err(
                            path,
                            *l,
                            format!(
                                "time slot {id} has no TIME_VALUE and no aligned slot on both sides to place it between"
                            ),
                        ));
                    }
                }
            }
        };
        if value.is_some() {
            prev = Some((i, t));
        }
        ms.insert(id.as_str(), t);
    }
    // linguistic types: time-alignable? which controlled vocabulary?
    let mut types: HashMap<String, (bool, Option<String>)> = HashMap::new();
    for t in child(root, "LINGUISTIC_TYPE") {
        let id = attr(t, "LINGUISTIC_TYPE_ID")?;
        let alignable = t.attribute("TIME_ALIGNABLE").is_none_or(|v| v == "true");
        types.insert(id, (alignable, t.attribute("CONTROLLED_VOCABULARY_REF").map(str::to_owned)));
    }
    let mut cvs: HashMap<String, Vec<String>> = HashMap::new();
    for cv in child(root, "CONTROLLED_VOCABULARY") {
        let id = attr(cv, "CV_ID")?;
        let mut entries = Vec::new();
        for e in cv.children().filter(|c| c.is_element()) {
            let value = match e.tag_name().name() {
                // EAF ≥ 2.8: <CV_ENTRY_ML><CVE_VALUE>…; the first language's value names it
                "CV_ENTRY_ML" => child(e, "CVE_VALUE").next().and_then(|v| v.text()),
                "CV_ENTRY" => e.text(),
                _ => continue,
            };
            entries.push(value.unwrap_or_default().trim().to_owned());
        }
        cvs.insert(id, entries);
    }
    let mut levels: Vec<LevelIntervals> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    for tier in child(root, "TIER") {
        let id = attr(tier, "TIER_ID")?;
        let ty = tier.attribute("LINGUISTIC_TYPE_REF").and_then(|t| types.get(t));
        let symbolic = child(tier, "ANNOTATION")
            .any(|a| a.children().any(|c| c.has_tag_name("REF_ANNOTATION")));
        if ty.is_some_and(|t| !t.0) || symbolic {
            skipped.push(id);
            continue;
        }
        let declared =
            ty.and_then(|t| t.1.as_ref()).and_then(|cv| cvs.get(cv)).cloned().unwrap_or_default();
        let mut ivs = Vec::new();
        for a in child(tier, "ANNOTATION").flat_map(|a| child(a, "ALIGNABLE_ANNOTATION")) {
            let aid = a.attribute("ANNOTATION_ID").unwrap_or("?");
            let at = format!("line {} (annotation {aid} of tier {id})", line(a));
            let time = |r: &str| -> Result<f64, FormatError> {
                let slot = attr(a, r)?;
                ms.get(slot.as_str()).copied().ok_or_else(|| {
                    err(
                        path,
                        line(a),
                        format!(
                            "{at}: {r} names time slot {slot:?}, which TIME_ORDER does not define"
                        ),
                    )
                })
            };
            let (t0, t1) = (time("TIME_SLOT_REF1")?, time("TIME_SLOT_REF2")?);
            if t1 <= t0 {
                return Err(err(
                    path,
                    line(a),
                    format!("{at}: expected an end after the start, found {t0} ms to {t1} ms"),
                ));
            }
            let label =
                child(a, "ANNOTATION_VALUE").next().and_then(|v| v.text()).unwrap_or("").trim();
            if label.is_empty() {
                return Err(err(
                    path,
                    line(a),
                    format!("{at}: expected a label in ANNOTATION_VALUE, found an empty value"),
                ));
            }
            let (start, end) = (clock.frame_at(t0 / 1000.0), clock.frame_at(t1 / 1000.0));
            if end <= start {
                return Err(err(
                    path,
                    line(a),
                    format!(
                        "{at}: {label:?} [{t0} ms, {t1} ms) covers no frame at {:.3} fps; lengthen it or drop it",
                        clock.fps()
                    ),
                ));
            }
            ivs.push(Interval { start, end, label: label.to_owned(), at });
        }
        levels.push(LevelIntervals {
            name: id,
            parent: tier.attribute("PARENT_REF").map(str::to_owned),
            declared,
            intervals: ivs,
        });
    }
    // a time-aligned tier under a symbolic one hangs from the root
    for l in &mut levels {
        if l.parent.as_ref().is_some_and(|p| skipped.contains(p)) {
            l.parent = None;
        }
    }
    if levels.is_empty() {
        return Err(err(path, 0, "expected at least one time-aligned TIER, found none"));
    }
    let video = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let frames = opts.frames.or(clock.frames());
    intervals::assemble(path, &video, levels, &Assembly { frames, ..opts.clone() })
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `YYYY-MM-DDThh:mm:ssZ` for the document's required DATE.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // civil date from days since 1970-01-01 (H. Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Writes an EAF 3.0 document; `media` is the video's URL or path for the header, if known.
pub fn write(doc: &Annotation, clock: &Clock, media: Option<&str>) -> Vec<u8> {
    let mut x = String::new();
    let _ = writeln!(x, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        x,
        r#"<ANNOTATION_DOCUMENT AUTHOR="" DATE="{}" FORMAT="3.0" VERSION="3.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd">"#,
        utc_now()
    );
    let _ = writeln!(x, r#"    <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds">"#);
    if let Some(m) = media {
        let url = if m.contains("://") { m.to_owned() } else { format!("file://{m}") };
        let _ = writeln!(
            x,
            r#"        <MEDIA_DESCRIPTOR MEDIA_URL="{}" MIME_TYPE="video/*"/>"#,
            escape(&url)
        );
    }
    let annotations: usize = doc.levels.iter().map(|l| l.track.segments().len()).sum();
    let _ =
        writeln!(x, r#"        <PROPERTY NAME="lastUsedAnnotationId">{annotations}</PROPERTY>"#);
    let _ = writeln!(x, "    </HEADER>");
    // one time slot per distinct boundary frame, shared by the tiers
    let mut frames: Vec<usize> = doc
        .levels
        .iter()
        .flat_map(|l| l.track.segments().iter().flat_map(|s| [s.start, s.end]))
        .collect();
    frames.sort_unstable();
    frames.dedup();
    let slot: HashMap<usize, usize> = frames.iter().enumerate().map(|(i, &f)| (f, i + 1)).collect();
    let _ = writeln!(x, "    <TIME_ORDER>");
    for (i, &f) in frames.iter().enumerate() {
        let ms = (clock.seconds_at(f) * 1000.0).round() as i64;
        let _ = writeln!(x, r#"        <TIME_SLOT TIME_SLOT_ID="ts{}" TIME_VALUE="{ms}"/>"#, i + 1);
    }
    let _ = writeln!(x, "    </TIME_ORDER>");
    let mut aid = 0;
    for l in &doc.levels {
        let name = escape(&l.name);
        let parent = l.parent.map(|p| format!(r#" PARENT_REF="{}""#, escape(&doc.levels[p].name)));
        let _ = writeln!(
            x,
            r#"    <TIER LINGUISTIC_TYPE_REF="{name}"{} TIER_ID="{name}">"#,
            parent.unwrap_or_default()
        );
        for s in l.track.segments() {
            aid += 1;
            let _ = writeln!(
                x,
                "        <ANNOTATION>\n            <ALIGNABLE_ANNOTATION ANNOTATION_ID=\"a{aid}\" TIME_SLOT_REF1=\"ts{}\" TIME_SLOT_REF2=\"ts{}\">\n                <ANNOTATION_VALUE>{}</ANNOTATION_VALUE>\n            </ALIGNABLE_ANNOTATION>\n        </ANNOTATION>",
                slot[&s.start],
                slot[&s.end],
                escape(l.label_name(s.label))
            );
        }
        let _ = writeln!(x, "    </TIER>");
    }
    for l in &doc.levels {
        let name = escape(&l.name);
        let constraint = if l.parent.is_some() { r#" CONSTRAINTS="Included_In""# } else { "" };
        let _ = writeln!(
            x,
            r#"    <LINGUISTIC_TYPE{constraint} CONTROLLED_VOCABULARY_REF="{name}" GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="{name}" TIME_ALIGNABLE="true"/>"#
        );
    }
    let _ = writeln!(
        x,
        r#"    <LANGUAGE LANG_DEF="http://cdb.iso.org/lg/CDB-00130975-001" LANG_ID="und" LANG_LABEL="undetermined (und)"/>"#
    );
    for (stereotype, description) in [
        (
            "Time_Subdivision",
            "Time subdivision of parent annotation's time interval, no time gaps allowed within this interval",
        ),
        (
            "Symbolic_Subdivision",
            "Symbolic subdivision of a parent annotation. Annotations refering to the same parent are ordered",
        ),
        ("Symbolic_Association", "1-1 association with a parent annotation"),
        (
            "Included_In",
            "Time alignable annotations within the parent annotation's time interval, gaps are allowed",
        ),
    ] {
        let _ = writeln!(
            x,
            r#"    <CONSTRAINT DESCRIPTION="{description}" STEREOTYPE="{stereotype}"/>"#
        );
    }
    for (li, l) in doc.levels.iter().enumerate() {
        let _ = writeln!(x, r#"    <CONTROLLED_VOCABULARY CV_ID="{}">"#, escape(&l.name));
        for (i, label) in l.vocab.iter().enumerate() {
            let _ = writeln!(
                x,
                "        <CV_ENTRY_ML CVE_ID=\"cve_{li}_{i}\">\n            <CVE_VALUE LANG_REF=\"und\">{}</CVE_VALUE>\n        </CV_ENTRY_ML>",
                escape(label)
            );
        }
        let _ = writeln!(x, "    </CONTROLLED_VOCABULARY>");
    }
    let _ = writeln!(x, "</ANNOTATION_DOCUMENT>");
    x.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotation::{Edit, tests::doc};
    use std::path::PathBuf;

    #[test]
    fn ours_to_elan_to_ours_is_the_same_annotation() {
        let mut d = doc(&[0, 0, 0, 1, 1, 2, 2, 2, 2, 1]);
        d.levels[0].name = "coarse & <more>".into();
        d.apply(&Edit::AddLevel { name: "fine".into(), parent: 0, label: "x".into() }).unwrap();
        d.apply(&Edit::Split { level: 1, frame: 1 }).unwrap();
        d.apply(&Edit::Relabel { level: 1, frame: 1, label: "y \"quoted\"".into() }).unwrap();
        for fps in [15.0, 29.97, 59.94] {
            let clock = Clock::Fps(fps);
            let bytes = write(&d, &clock, Some("/videos/a b.mp4"));
            let text = String::from_utf8(bytes).unwrap();
            let back = read(&PathBuf::from("v.eaf"), &text, &clock, &Assembly::default()).unwrap();
            assert_eq!(back.levels, d.levels, "fps {fps}");
        }
    }

    #[test]
    fn date_is_a_plausible_utc_timestamp() {
        let d = utc_now();
        assert_eq!(d.len(), 20, "{d}");
        assert!(d.starts_with("20") && d.ends_with('Z') && &d[10..11] == "T", "{d}");
    }

    #[test]
    fn malformed_and_wrong_documents_are_errors_with_the_line() {
        let p = PathBuf::from("x.eaf");
        let c = Clock::Fps(25.0);
        let o = Assembly::default();
        let e =
            read(&p, "<ANNOTATION_DOCUMENT>\n<TIER></TIME_ORDER>", &c, &o).unwrap_err().to_string();
        assert!(e.starts_with("x.eaf: line 2: expected ELAN XML, found malformed XML"), "{e}");
        let e = read(&p, "<html/>", &c, &o).unwrap_err().to_string();
        assert!(e.contains("expected an ANNOTATION_DOCUMENT element, found <html>"), "{e}");
        let unknown_slot = r#"<ANNOTATION_DOCUMENT><TIME_ORDER><TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="0"/></TIME_ORDER>
<TIER TIER_ID="t"><ANNOTATION>
<ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts9"><ANNOTATION_VALUE>x</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION>
</ANNOTATION></TIER></ANNOTATION_DOCUMENT>"#;
        let e = read(&p, unknown_slot, &c, &o).unwrap_err().to_string();
        assert!(e.contains("x.eaf: line 3: line 3 (annotation a1 of tier t): TIME_SLOT_REF2 names time slot \"ts9\""), "{e}");
        let tiny = unknown_slot.replace("ts9\"", "ts2\"").replace(
            r#"TIME_VALUE="0"/>"#,
            r#"TIME_VALUE="0"/><TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="10"/>"#,
        );
        let e = read(&p, &tiny, &c, &o).unwrap_err().to_string();
        assert!(e.contains("\"x\" [0 ms, 10 ms) covers no frame at 25.000 fps"), "{e}");
    }
}
