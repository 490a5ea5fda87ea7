//! Label Studio's JSON export of a video project labelled with `<TimelineLabels>` (under a
//! `<Video>` tag): a list of tasks, each with `annotations[].result[]` regions of type
//! `timelinelabels`, `value.ranges[{start, end}]` in frames counted from 1 with the end frame
//! included (as Label Studio's ML backend reads them: `labels[start - 1:end]`), and
//! `value.timelinelabels` naming the label. One level per `from_name` (the control tag's name).
//!
//! Label Studio has no level hierarchy; the export we write keeps ours in the task's `data`
//! (`mmant_levels`: name, parent and labels in order per level), which Label Studio carries
//! through import and export unchanged, so that a file read back is the same annotation.

use std::path::Path;

use serde_json::{Value, json};

use super::Annotation;
use super::formats::FormatError;
use super::intervals::{self, Assembly, Interval, LevelIntervals};

fn err(path: &Path, msg: impl std::fmt::Display) -> FormatError {
    FormatError { path: path.to_owned(), line: 0, message: msg.to_string() }
}

/// Reads every task of an export: one annotation per task (its first annotation not marked
/// cancelled; predictions are not read).
pub fn read_all(path: &Path, text: &str, opts: &Assembly) -> Result<Vec<Annotation>, FormatError> {
    let v: Value = serde_json::from_str(text).map_err(|e| FormatError {
        path: path.to_owned(),
        line: e.line(),
        message: format!("expected Label Studio JSON, found malformed JSON: {e}"),
    })?;
    let tasks: Vec<&Value> = match &v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![&v],
        _ => return Err(err(path, "expected a list of tasks (Label Studio's JSON export)")),
    };
    if tasks.is_empty() {
        return Err(err(path, "expected at least one task, found an empty list"));
    }
    tasks.iter().enumerate().map(|(i, t)| read_task(path, i, t, opts)).collect()
}

/// Reads an export holding one task.
pub fn read(path: &Path, text: &str, opts: &Assembly) -> Result<Annotation, FormatError> {
    let mut all = read_all(path, text, opts)?;
    if all.len() > 1 {
        return Err(err(
            path,
            format!(
                "expected one task, found {}: `mmant convert` writes one file per task",
                all.len()
            ),
        ));
    }
    Ok(all.remove(0))
}

fn read_task(
    path: &Path,
    i: usize,
    task: &Value,
    opts: &Assembly,
) -> Result<Annotation, FormatError> {
    let here = format!(
        "task {}",
        task.get("id").map_or_else(|| format!("#{}", i + 1), |id| id.to_string())
    );
    let data = task.get("data");
    let ours = data.and_then(|d| d.get("mmant_video")).and_then(Value::as_str);
    let video = ours
        .map(str::to_owned)
        .or_else(|| {
            data.and_then(|d| d.get("video")).and_then(Value::as_str).map(|v| {
                let name = v.rsplit(['/', '\\', '=']).next().unwrap_or(v);
                name.rsplit_once('.').map_or(name, |(stem, _)| stem).to_owned()
            })
        })
        .unwrap_or_else(|| {
            path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
        });
    let annotations = task
        .get("annotations")
        .and_then(Value::as_array)
        .ok_or_else(|| err(path, format!("{here}: expected an `annotations` list, found none")))?;
    let Some((ai, annotation)) = annotations
        .iter()
        .enumerate()
        .find(|(_, a)| a.get("was_cancelled").and_then(Value::as_bool) != Some(true))
    else {
        return Err(err(
            path,
            format!("{here}: expected an annotation, found none that is not cancelled"),
        ));
    };
    let results = annotation.get("result").and_then(Value::as_array).ok_or_else(|| {
        err(path, format!("{here}: annotation {}: expected a `result` list", ai + 1))
    })?;
    // our own levels' parents and label order, when we wrote the file
    let mut levels: Vec<LevelIntervals> = Vec::new();
    if let Some(ours) = data.and_then(|d| d.get("mmant_levels")).and_then(Value::as_array) {
        for l in ours {
            let name = l.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
            levels.push(LevelIntervals {
                name,
                parent: l.get("parent").and_then(Value::as_str).map(str::to_owned),
                declared: l
                    .get("labels")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                    .unwrap_or_default(),
                intervals: vec![],
            });
        }
    }
    for (ri, r) in results.iter().enumerate() {
        if r.get("type").and_then(Value::as_str) != Some("timelinelabels") {
            continue;
        }
        let at = format!("{here}: result {} (id {})", ri + 1, r.get("id").unwrap_or(&Value::Null));
        let from = r.get("from_name").and_then(Value::as_str).unwrap_or("timeline").to_owned();
        let value = r.get("value").ok_or_else(|| err(path, format!("{at}: expected a `value`")))?;
        let labels: Vec<&str> = value
            .get("timelinelabels")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let [label] = labels[..] else {
            return Err(err(
                path,
                format!("{at}: expected one label in value.timelinelabels, found {labels:?}"),
            ));
        };
        let ranges = value
            .get("ranges")
            .and_then(Value::as_array)
            .ok_or_else(|| err(path, format!("{at}: expected value.ranges [{{start, end}}]")))?;
        let li = match levels.iter().position(|l| l.name == from) {
            Some(i) => i,
            None => {
                levels.push(LevelIntervals { name: from, ..Default::default() });
                levels.len() - 1
            }
        };
        for rg in ranges {
            let frame = |k: &str| -> Result<usize, FormatError> {
                rg.get(k)
                    .and_then(Value::as_u64)
                    .filter(|&f| f >= 1)
                    .map(|f| f as usize)
                    .ok_or_else(|| {
                        err(
                            path,
                            format!(
                                "{at}: expected `{k}` a frame number from 1, found {}",
                                rg.get(k).unwrap_or(&Value::Null)
                            ),
                        )
                    })
            };
            let (first, last) = (frame("start")?, frame("end")?);
            if last < first {
                return Err(err(
                    path,
                    format!("{at}: expected end at or after start, found frames {first} to {last}"),
                ));
            }
            levels[li].intervals.push(Interval {
                start: first - 1,
                end: last,
                label: label.to_owned(),
                at: at.clone(),
            });
        }
    }
    intervals::assemble(path, &video, levels, opts)
}

/// Writes one task holding the annotation; `video_url` for `data.video` (default: the video's
/// name).
pub fn write(doc: &Annotation, video_url: Option<&str>) -> Vec<u8> {
    let mut result = Vec::new();
    for l in &doc.levels {
        for (i, s) in l.track.segments().iter().enumerate() {
            result.push(json!({
                "id": format!("{}-{i}", l.name),
                "from_name": l.name,
                "to_name": "video",
                "type": "timelinelabels",
                "origin": "manual",
                "value": {
                    "ranges": [{"start": s.start + 1, "end": s.end}],
                    "timelinelabels": [l.label_name(s.label)],
                },
            }));
        }
    }
    let levels: Vec<Value> = doc
        .levels
        .iter()
        .map(|l| {
            json!({
                "name": l.name,
                "parent": l.parent.map(|p| doc.levels[p].name.clone()),
                "labels": l.vocab,
            })
        })
        .collect();
    let task = json!([{
        "data": {
            "video": video_url.unwrap_or(&doc.video),
            "mmant_video": doc.video,
            "mmant_levels": levels,
        },
        "annotations": [{"result": result}],
    }]);
    let mut out = serde_json::to_vec_pretty(&task).expect("JSON values serialise");
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotation::{Edit, tests::doc};
    use std::path::PathBuf;

    #[test]
    fn ours_to_label_studio_to_ours_is_the_same_annotation() {
        let mut d = doc(&[0, 0, 0, 1, 1, 2, 2, 2, 2, 1]);
        d.apply(&Edit::AddLevel { name: "fine".into(), parent: 0, label: "x".into() }).unwrap();
        d.apply(&Edit::Split { level: 1, frame: 4 }).unwrap();
        d.apply(&Edit::Relabel { level: 1, frame: 4, label: "y".into() }).unwrap();
        let text = String::from_utf8(write(&d, None)).unwrap();
        let back = read(&PathBuf::from("v.json"), &text, &Assembly::default()).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn an_export_shaped_as_the_documentation_reads_with_gaps_as_background() {
        // the structure of Label Studio's documented TimelineLabels result, in a task list
        let text = r#"[{"id": 7, "data": {"video": "/data/upload/3/P03_cam01_P03_tea.mp4"},
          "annotations": [
            {"id": 1, "was_cancelled": true, "result": []},
            {"id": 2, "result": [
              {"id": "r1", "from_name": "actions", "to_name": "video", "type": "timelinelabels",
               "value": {"ranges": [{"start": 3, "end": 5}], "timelinelabels": ["Moving"]}},
              {"id": "r2", "from_name": "actions", "to_name": "video", "type": "timelinelabels",
               "value": {"ranges": [{"start": 8, "end": 9}, {"start": 11, "end": 11}], "timelinelabels": ["Nothing"]}},
              {"id": "b", "from_name": "box", "to_name": "video", "type": "videorectangle", "value": {}}
            ]}]}]"#;
        let d = read(&PathBuf::from("export.json"), text, &Assembly::default()).unwrap();
        assert_eq!(d.video, "P03_cam01_P03_tea");
        assert_eq!(d.levels.len(), 1);
        let l = &d.levels[0];
        assert_eq!(l.name, "actions");
        let got: Vec<(&str, usize, usize)> =
            l.track.segments().iter().map(|s| (l.label_name(s.label), s.start, s.end)).collect();
        assert_eq!(
            got,
            [
                ("background", 0, 2),
                ("Moving", 2, 5),
                ("background", 5, 7),
                ("Nothing", 7, 9),
                ("background", 9, 10),
                ("Nothing", 10, 11)
            ]
        );
    }

    #[test]
    fn bad_exports_say_which_task_and_result() {
        let p = PathBuf::from("e.json");
        let o = Assembly::default();
        let e = read(&p, "[{\"annotations\": [", &o).unwrap_err().to_string();
        assert!(
            e.starts_with("e.json: line 1: expected Label Studio JSON, found malformed JSON"),
            "{e}"
        );
        let e = read(&p, "[]", &o).unwrap_err().to_string();
        assert!(e.contains("found an empty list"), "{e}");
        let bad = r#"[{"id": 4, "annotations": [{"result": [{"id": "q", "type": "timelinelabels", "value": {"ranges": [{"start": 0, "end": 3}], "timelinelabels": ["a"]}}]}]}]"#;
        let e = read(&p, bad, &o).unwrap_err().to_string();
        assert!(
            e.contains(
                "task 4: result 1 (id \"q\"): expected `start` a frame number from 1, found 0"
            ),
            "{e}"
        );
        let two = r#"[{"annotations": [{"result": [{"type": "timelinelabels", "value": {"ranges": [{"start": 1, "end": 3}], "timelinelabels": ["a", "b"]}}]}]}]"#;
        let e = read(&p, two, &o).unwrap_err().to_string();
        assert!(e.contains("task #1: result 1 (id null): expected one label"), "{e}");
    }
}
