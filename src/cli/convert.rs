//! `mmant convert`: annotation files from one format to another (`convert`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use crate::annotation::formats::{self, Format, ReadOptions};
use crate::annotation::segment_table::{self, TableColumns};
use crate::annotation::{Annotation, Clock, elan, label_studio};
use crate::data::Vocabulary;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ToFormat {
    /// ELAN .eaf (EAF 3.0)
    Eaf,
    /// Label Studio JSON (TimelineLabels), one task
    LabelStudio,
    /// mmant's segment CSV (every level)
    Csv,
    /// MS-TCN per-frame labels (.txt, the first level)
    Mstcn,
    /// DARai per-frame `L1,L2,L3` lines (.txt, every level)
    Darai,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  mmant convert P03_cam01_P03_tea.txt P03_tea.eaf --fps 15
  mmant convert P03_tea.eaf P03_tea.txt --video P03_tea.mp4
  mmant convert export.json labels/ --to mstcn
  mmant convert EPIC_100_train.csv groundTruth/ --to mstcn --video-col video_id \\
      --start-col start_frame --stop-col stop_frame --frame-base 1 --stop-inclusive --label-col verb,noun")]
pub struct ConvertArgs {
    /// The annotation: MS-TCN .txt, DARai lines, segment .csv, ELAN .eaf, Label Studio .json, or
    /// a segment table of many videos (with --video-col)
    pub input: PathBuf,
    /// The file to write; a folder (one file per video) when the input holds several videos
    pub output: PathBuf,
    /// The output format (default: from the output's extension; .txt is MS-TCN)
    #[arg(long, value_enum)]
    pub to: Option<ToFormat>,
    /// Frames per second: turns ELAN's milliseconds and a table's timestamps into frames, and
    /// frames into the times written
    #[arg(long)]
    pub fps: Option<f64>,
    /// The annotated video: its frame times place times on its frames (exact on variable frame
    /// rate files), and its frame count is where the annotation ends
    #[arg(long)]
    pub video: Option<PathBuf>,
    /// The level's label vocabulary (mapping.txt): label ids in its order
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// With --mapping: a label not in it is an error (else it joins the vocabulary)
    #[arg(long, requires = "mapping")]
    pub strict: bool,
    /// The label of frames no segment covers (default: the vocabulary's SIL, background or BG,
    /// else `background`)
    #[arg(long)]
    pub background: Option<String>,
    /// The level the input's single level is read as, and --mapping's level
    #[arg(long, default_value = "action")]
    pub level: String,
    /// Segment table: the column holding the video id (makes the input a table)
    #[arg(long)]
    pub video_col: Option<String>,
    /// Segment table: the start column (frame numbers or HH:MM:SS.ff timestamps)
    #[arg(long, default_value = "start_frame", requires = "video_col")]
    pub start_col: String,
    /// Segment table: the stop column
    #[arg(long, default_value = "stop_frame", requires = "video_col")]
    pub stop_col: String,
    /// Segment table: the label column(s), comma-separated; several are joined
    #[arg(long, value_delimiter = ',', default_value = "label", requires = "video_col")]
    pub label_col: Vec<String>,
    /// Segment table: what joins several label columns
    #[arg(long, default_value = "_", requires = "video_col")]
    pub label_join: String,
    /// Segment table: the number of a video's first frame (EPIC-KITCHENS counts from 1)
    #[arg(long, default_value_t = 0, requires = "video_col")]
    pub frame_base: usize,
    /// Segment table: the stop frame is the segment's last frame (else the first after it)
    #[arg(long, requires = "video_col")]
    pub stop_inclusive: bool,
}

/// The video's frame times as a clock, or the given rate.
fn clock(a: &ConvertArgs) -> Result<Option<Clock>> {
    if let Some(fps) = a.fps
        && !(fps.is_finite() && fps > 0.0)
    {
        bail!("--fps: expected a positive frame rate, found {fps}");
    }
    let Some(video) = &a.video else { return Ok(a.fps.map(Clock::Fps)) };
    let file = crate::video::VideoFile::open(video)
        .with_context(|| format!("reading the frame times of {}", video.display()))?;
    let times: Vec<f64> = (0..file.index.len()).map(|k| file.index.time_of(k)).collect();
    let fallback = a.fps.unwrap_or(file.metadata.fps);
    Ok(Some(Clock::from_times(times, fallback)))
}

fn output_format(a: &ConvertArgs, path: &Path) -> Result<ToFormat> {
    if let Some(f) = a.to {
        return Ok(f);
    }
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    Ok(match ext.as_deref() {
        Some("eaf") => ToFormat::Eaf,
        Some("json") => ToFormat::LabelStudio,
        Some("csv") => ToFormat::Csv,
        Some("txt") => ToFormat::Mstcn,
        _ => bail!(
            "{}: say which format to write with --to (eaf, label-studio, csv, mstcn, darai)",
            path.display()
        ),
    })
}

fn extension(f: ToFormat) -> &'static str {
    match f {
        ToFormat::Eaf => "eaf",
        ToFormat::LabelStudio => "json",
        ToFormat::Csv => "csv",
        ToFormat::Mstcn | ToFormat::Darai => "txt",
    }
}

fn encode(
    doc: &Annotation,
    to: ToFormat,
    clock: Option<&Clock>,
    a: &ConvertArgs,
) -> Result<Vec<u8>> {
    let needs_clock = |what: &str| {
        clock
            .cloned()
            .with_context(|| format!("{what}: give the frame rate (--fps) or the video (--video)"))
    };
    let media = a.video.as_ref().map(|v| std::path::absolute(v).unwrap_or(v.clone()));
    let media = media.as_ref().map(|m| m.to_string_lossy().into_owned());
    Ok(match to {
        ToFormat::Eaf => {
            elan::write(doc, &needs_clock("ELAN counts milliseconds")?, media.as_deref())
        }
        ToFormat::LabelStudio => label_studio::write(doc, media.as_deref()),
        ToFormat::Csv => formats::write(
            doc,
            Format::SegmentCsv,
            needs_clock("the segment CSV has seconds columns")?,
        ),
        ToFormat::Mstcn => {
            if doc.levels.len() > 1 {
                eprintln!(
                    "{}: MS-TCN holds one level: wrote level {:?}, not {}",
                    doc.video,
                    doc.levels[0].name,
                    doc.levels[1..]
                        .iter()
                        .map(|l| format!("{:?}", l.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            formats::write(doc, Format::MsTcn, 1.0)
        }
        ToFormat::Darai => formats::write(doc, Format::Darai, 1.0),
    })
}

pub(super) fn run(a: &ConvertArgs) -> Result<ExitCode> {
    let clock = clock(a)?;
    let vocabularies: Vec<(String, Vocabulary)> = match &a.mapping {
        Some(m) => vec![(
            a.level.clone(),
            Vocabulary::read(m).with_context(|| format!("reading {}", m.display()))?,
        )],
        None => vec![],
    };
    let bytes =
        std::fs::read(&a.input).with_context(|| format!("reading {}", a.input.display()))?;
    let frames = clock.as_ref().and_then(Clock::frames);
    let opts = ReadOptions {
        vocabularies: &vocabularies,
        strict: a.strict,
        clock: clock.clone(),
        frames,
        background: a.background.clone(),
    };
    let docs: Vec<Annotation> = if let Some(video_col) = &a.video_col {
        let cols = TableColumns {
            video: video_col.clone(),
            start: a.start_col.clone(),
            stop: a.stop_col.clone(),
            labels: a.label_col.clone(),
            join: a.label_join.clone(),
            level: a.level.clone(),
            frame_base: a.frame_base,
            stop_inclusive: a.stop_inclusive,
        };
        segment_table::read(&a.input, &bytes, &cols, clock.as_ref(), &opts.assembly())?
    } else if Format::detect(&a.input, &bytes) == Format::LabelStudio {
        let text = std::str::from_utf8(&bytes)
            .with_context(|| format!("{}: expected UTF-8 JSON", a.input.display()))?;
        label_studio::read_all(&a.input, text, &opts.assembly())?
    } else {
        let mut doc = formats::read_with(&a.input, &bytes, &opts)?;
        // a one-level file's level takes --level's name (MS-TCN files name none)
        if doc.levels.len() == 1 && Format::detect(&a.input, &bytes) == Format::MsTcn {
            doc.levels[0].name = a.level.clone();
        }
        vec![doc]
    };
    if let (Some(n), Some(doc)) = (frames, docs.first())
        && docs.len() == 1
        && let Some(m) = doc.length_mismatch(n)
    {
        eprintln!("{}: {m}", a.input.display());
    }
    let many = docs.len() > 1 || a.output.is_dir();
    let to = if many {
        a.to.context("the input holds several videos: say which format to write with --to")?
    } else {
        output_format(a, &a.output)?
    };
    if many {
        crate::fsutil::create_output_dir(&a.output)
            .with_context(|| format!("creating {}", a.output.display()))?;
    }
    for doc in &docs {
        let path = if many {
            a.output.join(format!("{}.{}", doc.video, extension(to)))
        } else {
            a.output.clone()
        };
        let bytes = encode(doc, to, clock.as_ref(), a)?;
        crate::fsutil::write_atomic(&path, &bytes)
            .with_context(|| format!("writing {}", path.display()))?;
        let segments: usize = doc.levels.iter().map(|l| l.track.segments().len()).sum();
        println!(
            "{}: {} frames, {} level{}, {segments} segments",
            path.display(),
            doc.frames(),
            doc.levels.len(),
            if doc.levels.len() == 1 { "" } else { "s" }
        );
    }
    Ok(ExitCode::SUCCESS)
}
