//! Opening a video, its PTS index, exact seeks and RGB conversion.

use std::path::{Path, PathBuf};

use ffmpeg::format::Pixel;
use ffmpeg::media::Type;
use ffmpeg::software::scaling;
use ffmpeg_next as ffmpeg;

use super::index::{FrameIndex, Metadata};
use super::{RgbFrame, VideoError};

/// What a scaler was made for: source pixel format and size, output size.
type ScalerKey = (Pixel, u32, u32, u32, u32);

pub struct VideoFile {
    path: PathBuf,
    input: ffmpeg::format::context::Input,
    stream: usize,
    decoder: ffmpeg::decoder::Video,
    pub index: FrameIndex,
    pub metadata: Metadata,
    scaler: Option<(scaling::Context, ScalerKey)>,
    /// The frame the decoder delivered last, so that reading forward needs no seek.
    position: Option<usize>,
}

/// Initialises FFmpeg once per process.
fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ffmpeg::init();
        // FFmpeg's own messages would go to stderr (under the UI, or dozens per corrupt frame); errors reach the user as VideoError, naming the frame
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Fatal);
    });
}

fn open_input(path: &Path) -> Result<(ffmpeg::format::context::Input, usize), VideoError> {
    init();
    let input = ffmpeg::format::input(path)
        .map_err(|e| VideoError::Open { path: path.to_owned(), reason: e.to_string() })?;
    let stream = input
        .streams()
        .best(Type::Video)
        .ok_or_else(|| VideoError::NoVideo { path: path.to_owned() })?
        .index();
    // FFmpeg's tty demuxer shows any text file as a picture of its characters: a label file given
    // as the video would open as a video of text
    let demuxer = input.format().name().to_owned();
    if demuxer == "tty" {
        return Err(VideoError::NotAVideo {
            path: path.to_owned(),
            read_as: "text (FFmpeg's tty demuxer)".into(),
        });
    }
    Ok((input, stream))
}

fn open_decoder(
    path: &Path,
    input: &ffmpeg::format::context::Input,
    stream: usize,
) -> Result<ffmpeg::decoder::Video, VideoError> {
    let params = input.stream(stream).expect("stream index from best()").parameters();
    let mut ctx = ffmpeg::codec::context::Context::from_parameters(params)
        .map_err(|e| VideoError::Open { path: path.to_owned(), reason: e.to_string() })?;
    // frame threading on every core, as the ffmpeg tool does ("auto")
    ctx.set_threading(ffmpeg::codec::threading::Config {
        kind: ffmpeg::codec::threading::Type::Frame,
        count: 0,
        ..Default::default()
    });
    ctx.decoder()
        .video()
        .map_err(|e| VideoError::Open { path: path.to_owned(), reason: format!("no decoder: {e}") })
}

/// Rotation a player applies, from the stream's display matrix or its `rotate` tag.
fn rotation(stream: &ffmpeg::format::stream::Stream) -> i32 {
    for sd in stream.side_data() {
        if sd.kind() == ffmpeg::codec::packet::side_data::Type::DisplayMatrix
            && sd.data().len() >= 36
        {
            let m: Vec<i32> = sd
                .data()
                .chunks_exact(4)
                .take(9)
                .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            // av_display_rotation_get: atan2 of the 16.16 fixed-point matrix, counter-clockwise
            let (a, b) = (m[0] as f64, m[1] as f64);
            let ccw = b.atan2(a).to_degrees();
            return (-ccw).round() as i32 % 360;
        }
    }
    stream.metadata().get("rotate").and_then(|r| r.parse().ok()).unwrap_or(0)
}

/// The stream's frame count as its container declares it: `nb_frames` (MP4), else the video
/// stream's own duration × its average frame rate. A truncated copy keeps the original's
/// header, so this is what the file should have had. The file's duration is not used: audio
/// may run past the video. (Matroska declares neither: its cut copies are not detected.)
fn declared_frames(stream: &ffmpeg::format::stream::Stream) -> Option<usize> {
    if stream.frames() > 0 {
        return Some(stream.frames() as usize);
    }
    let tb = stream.time_base();
    if stream.duration() <= 0 || tb.denominator() == 0 {
        return None;
    }
    let seconds = stream.duration() as f64 * tb.numerator() as f64 / tb.denominator() as f64;
    let rate = stream.avg_frame_rate();
    let fps = rate.numerator() as f64 / rate.denominator().max(1) as f64;
    (fps > 0.0).then(|| (seconds * fps).round() as usize)
}

impl VideoFile {
    /// Opens a video and builds its frame index (from the packets; by decoding every frame when
    /// some packet has no timestamp).
    pub fn open(path: &Path) -> Result<Self, VideoError> {
        let (mut input, stream) = open_input(path)?;
        let (time_base, codec, rot, declared) = {
            let s = input.stream(stream).expect("stream index from best()");
            let tb = s.time_base();
            (
                (tb.numerator(), tb.denominator()),
                s.parameters().id().name().to_owned(),
                rotation(&s),
                declared_frames(&s),
            )
        };
        let cached = super::index::cached(path);
        let mut entries: Vec<(i64, bool)> = cached
            .as_ref()
            .map(|ix| ix.pts.iter().copied().zip(ix.keyframe.iter().copied()).collect())
            .unwrap_or_default();
        let mut complete = true;
        for (s, packet) in input.packets().take_while(|_| cached.is_none()) {
            if s.index() != stream || packet.size() == 0 {
                continue;
            }
            match packet.pts() {
                Some(pts) => entries.push((pts, packet.is_key())),
                None => complete = false,
            }
        }
        let decoder = open_decoder(path, &input, stream)?;
        let mut file = VideoFile {
            path: path.to_owned(),
            input,
            stream,
            metadata: Metadata {
                width: decoder.width(),
                height: decoder.height(),
                codec,
                frames: 0,
                fps: 0.0,
                variable_fps: false,
                duration_s: 0.0,
                rotation: rot,
                declared_frames: declared,
                frame_times: None,
            },
            decoder,
            index: FrameIndex { pts: vec![], keyframe: vec![], time_base },
            scaler: None,
            position: None,
        };
        if !complete || entries.is_empty() {
            entries = file.decode_timestamps()?;
        }
        entries.sort_by_key(|e| e.0);
        entries.dedup_by_key(|e| e.0);
        file.index.pts = entries.iter().map(|e| e.0).collect();
        file.index.keyframe = entries.iter().map(|e| e.1).collect();
        if file.index.is_empty() {
            return Err(VideoError::Decode {
                path: path.to_owned(),
                reason: "the video stream has no frames".into(),
            });
        }
        if cached.is_none() {
            super::index::store(path, &file.index);
        }
        let (fps, variable, duration) = file.index.rate();
        file.metadata.frames = file.index.len();
        file.metadata.fps = fps;
        file.metadata.variable_fps = variable;
        file.metadata.duration_s = duration;
        if variable {
            file.metadata.frame_times =
                Some((0..file.index.len()).map(|k| file.index.time_of(k)).collect());
        }
        file.rewind()?;
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every frame's best-effort timestamp, by decoding the whole stream (for files whose packets
    /// carry no timestamps).
    fn decode_timestamps(&mut self) -> Result<Vec<(i64, bool)>, VideoError> {
        self.rewind()?;
        let mut out = Vec::new();
        let mut frame = ffmpeg::frame::Video::empty();
        let stream = self.stream;
        let mut fallback = 0i64;
        let mut take = |decoder: &mut ffmpeg::decoder::Video, out: &mut Vec<(i64, bool)>| {
            while decoder.receive_frame(&mut frame).is_ok() {
                let ts = frame.timestamp().unwrap_or(fallback);
                fallback = ts + 1;
                out.push((ts, frame.is_key()));
            }
        };
        for (s, packet) in self.input.packets() {
            if s.index() == stream {
                // a packet the decoder rejects is a damaged frame: skip it, keep the rest
                let _ = self.decoder.send_packet(&packet);
                take(&mut self.decoder, &mut out);
            }
        }
        let _ = self.decoder.send_eof();
        take(&mut self.decoder, &mut out);
        Ok(out)
    }

    fn rewind(&mut self) -> Result<(), VideoError> {
        self.seek_pts(i64::MIN)
    }

    fn seek_pts(&mut self, pts: i64) -> Result<(), VideoError> {
        // SAFETY: the context pointer is valid for the life of `input`; av_seek_frame takes the
        // stream's time base with BACKWARD = the keyframe at or before `pts`.
        let ret = unsafe {
            ffmpeg::ffi::av_seek_frame(
                self.input.as_mut_ptr(),
                self.stream as i32,
                pts.max(i64::MIN + 1),
                ffmpeg::ffi::AVSEEK_FLAG_BACKWARD,
            )
        };
        if ret < 0 && pts != i64::MIN {
            return Err(VideoError::Decode {
                path: self.path.clone(),
                reason: format!("seek failed: {}", ffmpeg::Error::from(ret)),
            });
        }
        self.decoder.flush();
        self.position = None;
        Ok(())
    }

    /// Decodes forward until frame `k`; `self.position` tracks the last delivered frame. Gives
    /// up (`Ok(None)`) when `stop()` says so, checked before each packet.
    fn decode_until(
        &mut self,
        k: usize,
        out: &mut ffmpeg::frame::Video,
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<Option<bool>, VideoError> {
        let target = self.index.pts[k];
        let stream = self.stream;
        loop {
            while self.decoder.receive_frame(out).is_ok() {
                let ts = out.timestamp().or(out.pts());
                if let Some(f) = ts.and_then(|t| self.index.frame_of(t)) {
                    self.position = Some(f);
                }
                match ts {
                    Some(t) if t == target => return Ok(Some(true)),
                    Some(t) if t > target => return Ok(Some(false)),
                    _ => {}
                }
            }
            if stop() {
                return Ok(None);
            }
            let mut sent = false;
            for (s, packet) in self.input.packets() {
                if s.index() == stream {
                    // Frames before the target that no other frame refers to need not be
                    // decoded at all (exact: nothing depends on them); the rest must be.
                    let skippable = packet.pts().is_some_and(|p| p < target);
                    self.decoder.skip_frame(if skippable {
                        ffmpeg::Discard::NonReference
                    } else {
                        ffmpeg::Discard::Default
                    });
                    let _ = self.decoder.send_packet(&packet);
                    sent = true;
                    break;
                }
            }
            if !sent {
                let _ = self.decoder.send_eof();
                while self.decoder.receive_frame(out).is_ok() {
                    if out.timestamp().or(out.pts()) == Some(target) {
                        return Ok(Some(true));
                    }
                }
                return Ok(Some(false));
            }
        }
    }

    /// Frame `k` (presentation order), converted to RGB at `width` × `height` (0 = the video's).
    pub fn frame(&mut self, k: usize, width: u32, height: u32) -> Result<RgbFrame, VideoError> {
        let never = &mut || false;
        Ok(self.frame_unless(k, width, height, never)?.expect("never stopped"))
    }

    /// `frame`, or `None` as soon as `stop()` says so (checked before each packet: a newer
    /// request need not wait for a long decode to finish).
    pub fn frame_unless(
        &mut self,
        k: usize,
        width: u32,
        height: u32,
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<Option<RgbFrame>, VideoError> {
        if k >= self.index.len() {
            return Err(VideoError::OutOfRange {
                path: self.path.clone(),
                frame: k,
                frames: self.index.len(),
            });
        }
        let mut decoded = ffmpeg::frame::Video::empty();
        // reading on needs no seek unless a keyframe closer to k lies after the current position
        let forward =
            matches!(self.position, Some(p) if p < k && self.index.keyframe_before(k) <= p);
        if !forward {
            self.seek_pts(self.index.pts[self.index.keyframe_before(k)])?;
        }
        // an interrupted decode may hold frames it was told to discard (those before its
        // target): the next request seeks rather than read on from there
        let Some(mut found) = self.decode_until(k, &mut decoded, stop)? else {
            self.position = None;
            return Ok(None);
        };
        if !found {
            // the demuxer's keyframe was after the target (inexact index): start over from 0
            self.rewind()?;
            let Some(again) = self.decode_until(k, &mut decoded, stop)? else {
                self.position = None;
                return Ok(None);
            };
            found = again;
        }
        if !found {
            return Err(VideoError::Frame {
                path: self.path.clone(),
                frame: k,
                reason: format!("no decoded frame has timestamp {}", self.index.pts[k]),
            });
        }
        self.rgb_of(k, &decoded, width, height).map(Some)
    }

    fn rgb_of(
        &mut self,
        k: usize,
        frame: &ffmpeg::frame::Video,
        width: u32,
        height: u32,
    ) -> Result<RgbFrame, VideoError> {
        let (w, h) = if width == 0 || height == 0 {
            (frame.width(), frame.height())
        } else {
            (width, height)
        };
        let key = (frame.format(), frame.width(), frame.height(), w, h);
        if self.scaler.as_ref().is_none_or(|(_, k)| *k != key) {
            let ctx = scaling::Context::get(
                frame.format(),
                frame.width(),
                frame.height(),
                Pixel::RGB24,
                w,
                h,
                scaling::Flags::BILINEAR,
            )
            .map_err(|e| VideoError::Frame {
                path: self.path.clone(),
                frame: k,
                reason: format!("no RGB conversion: {e}"),
            })?;
            self.scaler = Some((ctx, key));
        }
        let (scaler, _) = self.scaler.as_mut().expect("set above");
        let mut rgb = ffmpeg::frame::Video::empty();
        scaler.run(frame, &mut rgb).map_err(|e| VideoError::Frame {
            path: self.path.clone(),
            frame: k,
            reason: e.to_string(),
        })?;
        // rows may be padded: copy width·3 bytes of each
        let stride = rgb.stride(0);
        let row = w as usize * 3;
        let mut data = Vec::with_capacity(row * h as usize);
        for y in 0..h as usize {
            data.extend_from_slice(&rgb.data(0)[y * stride..y * stride + row]);
        }
        Ok(RgbFrame { index: k, width: w, height: h, data })
    }
}
