//! Per-frame visual features: `features/<video>.npy`, float32 (or float64) 2-D arrays, stored
//! channels-first (C×T, as MS-TCN ships I3D features) or time-first (T×C, as m&m-Ant's DARai
//! loader reads them). The orientation comes from a JSON sidecar (`<video>.json`) or from the
//! feature dimension the caller expects; it is never guessed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{DataError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Orientation {
    /// Shape (C, T): MS-TCN's layout.
    #[serde(rename = "CxT")]
    ChannelsFirst,
    /// Shape (T, C).
    #[serde(rename = "TxC")]
    TimeFirst,
}

/// What a feature file's sidecar records; fields other than these are kept out of the way
/// (the extractor writes more: weights hash, preprocessing, version).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeatureSidecar {
    pub orientation: Option<Orientation>,
    pub dim: Option<usize>,
    pub backbone: Option<String>,
    /// Column t of the array is video frame t·stride (features extracted from every
    /// stride-th frame); the reader repeats each column to give one row per video frame.
    pub stride: Option<usize>,
    pub fps: Option<f64>,
    pub video_frames: Option<usize>,
}

impl FeatureSidecar {
    pub fn path_for(npy: &Path) -> PathBuf {
        npy.with_extension("json")
    }

    /// Reads the sidecar beside `npy`, if there is one.
    pub fn read_beside(npy: &Path) -> Result<Option<Self>> {
        let path = Self::path_for(npy);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| DataError::file(&path, "a JSON feature sidecar", e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DataError::io(path, e)),
        }
    }
}

/// Features of one video, time-first in memory: row t is frame t's `dim` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    pub dim: usize,
    pub frames: usize,
    pub data: Vec<f32>,
    /// The CNN that made them, when the sidecar says: features of different backbones are
    /// different spaces, and a checkpoint refuses the wrong one.
    pub backbone: Option<String>,
    /// The file held one sample every `stride` frames (1: every frame); `data` has one row per
    /// frame either way.
    pub stride: usize,
}

impl Features {
    pub fn row(&self, t: usize) -> &[f32] {
        &self.data[t * self.dim..(t + 1) * self.dim]
    }

    /// Keeps the first `frames` rows (used to reconcile lengths with the labels).
    pub fn truncate(&mut self, frames: usize) {
        if frames < self.frames {
            self.frames = frames;
            self.data.truncate(frames * self.dim);
        }
    }

    /// Reads `path`. `expected_dim` is the feature dimension the caller expects (2048 for I3D);
    /// together with the sidecar, it decides the orientation.
    pub fn read(path: &Path, expected_dim: Option<usize>) -> Result<Self> {
        let sidecar = FeatureSidecar::read_beside(path)?;
        let (shape, values) = read_npy_f32(path)?;
        let orientation = orientation_of(path, &shape, expected_dim, sidecar.as_ref())?;
        let (dim, frames) = match orientation {
            Orientation::ChannelsFirst => (shape[0], shape[1]),
            Orientation::TimeFirst => (shape[1], shape[0]),
        };
        let mut data = match orientation {
            Orientation::TimeFirst => values,
            Orientation::ChannelsFirst => transpose(&values, dim, frames),
        };
        let mut frames = frames;
        let stride = sidecar.as_ref().and_then(|s| s.stride).unwrap_or(1).max(1);
        if stride > 1 {
            // one row per video frame: frame k takes the column of the sample at or before it
            let video_frames = sidecar
                .as_ref()
                .and_then(|s| s.video_frames)
                .unwrap_or(frames * stride)
                .min(frames * stride);
            data = (0..video_frames)
                .flat_map(|k| data[(k / stride) * dim..(k / stride + 1) * dim].iter().copied())
                .collect();
            frames = video_frames;
        }
        let backbone = sidecar.and_then(|s| s.backbone);
        Ok(Features { dim, frames, data, backbone, stride })
    }

    /// Only the shape (and orientation) of a feature file, without reading its values.
    pub fn read_shape(path: &Path, expected_dim: Option<usize>) -> Result<(usize, usize)> {
        let sidecar = FeatureSidecar::read_beside(path)?;
        let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
        let npy = npyz::NpyFile::new(std::io::BufReader::new(file))
            .map_err(|e| DataError::file(path, "a .npy file", e.to_string()))?;
        let shape = shape_2d(path, npy.shape())?;
        let (dim, samples) = match orientation_of(path, &shape, expected_dim, sidecar.as_ref())? {
            Orientation::ChannelsFirst => (shape[0], shape[1]),
            Orientation::TimeFirst => (shape[1], shape[0]),
        };
        let stride = sidecar.as_ref().and_then(|s| s.stride).unwrap_or(1).max(1);
        let frames = sidecar
            .as_ref()
            .and_then(|s| s.video_frames)
            .unwrap_or(samples * stride)
            .min(samples * stride);
        Ok((dim, if stride > 1 { frames } else { samples }))
    }
}

fn shape_2d(path: &Path, shape: &[u64]) -> Result<[usize; 2]> {
    match shape {
        [a, b] if *a > 0 && *b > 0 => Ok([*a as usize, *b as usize]),
        _ => Err(DataError::file(
            path,
            "a 2-D feature array (C×T or T×C) with no empty axis",
            format!("shape {shape:?}"),
        )),
    }
}

/// Reads a 2-D float array in C order as f32 (float64 files are converted).
fn read_npy_f32(path: &Path) -> Result<([usize; 2], Vec<f32>)> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let npy = npyz::NpyFile::new(&bytes[..])
        .map_err(|e| DataError::file(path, "a .npy file", e.to_string()))?;
    let shape = shape_2d(path, npy.shape())?;
    let order = npy.order();
    let dtype = npy.dtype().descr();
    let Some(count) = shape[0].checked_mul(shape[1]).filter(|&c| c <= bytes.len()) else {
        return Err(DataError::file(
            path,
            format!("a shape that fits in {} bytes", bytes.len()),
            format!("shape {shape:?}"),
        ));
    };
    let truncated = |e: std::io::Error| {
        DataError::file(path, format!("{count} values of shape {shape:?}"), e.to_string())
    };
    let values: Vec<f32> = match npy.try_data::<f32>() {
        Ok(reader) => reader.collect::<std::io::Result<_>>().map_err(truncated)?,
        Err(npy) => match npy.try_data::<f64>() {
            Ok(reader) => reader
                .map(|v| v.map(|v| v as f32))
                .collect::<std::io::Result<_>>()
                .map_err(truncated)?,
            Err(_) => {
                return Err(DataError::file(
                    path,
                    "float32 or float64 values",
                    format!("dtype {dtype}"),
                ));
            }
        },
    };
    if values.len() != count {
        return Err(DataError::file(path, format!("{count} values"), format!("{}", values.len())));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(DataError::file(
            path,
            "finite feature values",
            format!("{} at flat index {i}", values[i]),
        ));
    }
    Ok(match order {
        npyz::Order::C => (shape, values),
        // Fortran order stores the transpose's C layout.
        npyz::Order::Fortran => (shape, transpose(&values, shape[1], shape[0])),
    })
}

/// Transposes a row-major `rows × cols` matrix.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

fn orientation_of(
    path: &Path,
    shape: &[usize; 2],
    expected_dim: Option<usize>,
    sidecar: Option<&FeatureSidecar>,
) -> Result<Orientation> {
    let expected_dim = expected_dim.or(sidecar.and_then(|s| s.dim));
    if let Some(orientation) = sidecar.and_then(|s| s.orientation) {
        let dim = match orientation {
            Orientation::ChannelsFirst => shape[0],
            Orientation::TimeFirst => shape[1],
        };
        if let Some(expected) = expected_dim.filter(|&e| e != dim) {
            return Err(DataError::file(
                path,
                format!("feature dimension {expected} (sidecar says {orientation:?})"),
                format!("shape {shape:?}"),
            ));
        }
        return Ok(orientation);
    }
    let Some(dim) = expected_dim else {
        return Err(DataError::file(
            path,
            "a known orientation: give the feature dimension (--feature-dim) or a sidecar with \"orientation\": \"CxT\" or \"TxC\"",
            format!("shape {shape:?} and no sidecar"),
        ));
    };
    match (shape[0] == dim, shape[1] == dim) {
        (true, false) => Ok(Orientation::ChannelsFirst),
        (false, true) => Ok(Orientation::TimeFirst),
        (true, true) => Err(DataError::file(
            path,
            "a non-square array or a sidecar naming the orientation",
            format!("shape {shape:?}"),
        )),
        (false, false) => Err(DataError::file(
            path,
            format!("one axis of length {dim} (the feature dimension)"),
            format!("shape {shape:?}"),
        )),
    }
}

/// Writes a float32 2-D array in C order (used by tests and the feature extractor).
pub fn write_npy_f32(path: &Path, shape: [usize; 2], values: &[f32]) -> Result<()> {
    use npyz::WriterBuilder;
    let mut buf = Vec::new();
    {
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[shape[0] as u64, shape[1] as u64])
            .writer(&mut buf)
            .begin_nd()
            .map_err(|e| DataError::io(path, e))?;
        w.extend(values.iter().copied()).map_err(|e| DataError::io(path, e))?;
        w.finish().map_err(|e| DataError::io(path, e))?;
    }
    crate::fsutil::write_atomic(path, &buf).map_err(|e| DataError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_features_give_one_row_per_video_frame() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.npy");
        // C = 1, three samples of a 7-frame video at stride 3: frames 0–2, 3–5, 6
        write_npy_f32(&p, [1, 3], &[10., 20., 30.]).unwrap();
        std::fs::write(
            dir.path().join("v.json"),
            r#"{"orientation": "CxT", "stride": 3, "video_frames": 7, "backbone": "resnet18"}"#,
        )
        .unwrap();
        let f = Features::read(&p, None).unwrap();
        assert_eq!(f.frames, 7);
        assert_eq!(f.data, vec![10., 10., 10., 20., 20., 20., 30.]);
        assert_eq!(f.backbone.as_deref(), Some("resnet18"));
        assert_eq!(Features::read_shape(&p, None).unwrap(), (1, 7));
    }

    #[test]
    fn channels_first_is_transposed_to_time_first() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.npy");
        // C = 3, T = 2: column t is frame t
        write_npy_f32(&p, [3, 2], &[1., 2., 3., 4., 5., 6.]).unwrap();
        let f = Features::read(&p, Some(3)).unwrap();
        assert_eq!((f.dim, f.frames), (3, 2));
        assert_eq!(f.row(0), &[1., 3., 5.]);
        assert_eq!(f.row(1), &[2., 4., 6.]);
        let f = Features::read(&p, Some(2)).unwrap();
        assert_eq!((f.dim, f.frames), (2, 3));
        assert_eq!(f.row(2), &[5., 6.]);
        assert_eq!(Features::read_shape(&p, Some(3)).unwrap(), (3, 2));
    }

    #[test]
    fn orientation_is_never_guessed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.npy");
        write_npy_f32(&p, [3, 2], &[0.; 6]).unwrap();
        let e = Features::read(&p, None).unwrap_err().to_string();
        assert!(e.contains("give the feature dimension"), "{e}");
        let e = Features::read(&p, Some(5)).unwrap_err().to_string();
        assert!(e.contains("one axis of length 5") && e.contains("shape [3, 2]"), "{e}");
        write_npy_f32(&p, [2, 2], &[0.; 4]).unwrap();
        assert!(Features::read(&p, Some(2)).is_err());
        std::fs::write(
            dir.path().join("v.json"),
            r#"{"orientation":"TxC","backbone":"x","extra":1}"#,
        )
        .unwrap();
        assert_eq!(Features::read(&p, None).unwrap().dim, 2);
    }

    #[test]
    fn sidecar_and_expected_dim_must_agree() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.npy");
        write_npy_f32(&p, [4, 2], &[0.; 8]).unwrap();
        std::fs::write(dir.path().join("v.json"), r#"{"orientation":"CxT"}"#).unwrap();
        assert_eq!(Features::read(&p, None).unwrap().dim, 4);
        assert!(Features::read(&p, Some(2)).is_err());
        std::fs::write(dir.path().join("v.json"), "{not json").unwrap();
        assert!(
            Features::read(&p, None)
                .unwrap_err()
                .to_string()
                .contains("v.json: expected a JSON feature sidecar")
        );
    }

    #[test]
    fn bad_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.npy");
        write_npy_f32(&p, [4, 8], &[1.0; 32]).unwrap();
        let good = std::fs::read(&p).unwrap();
        for cut in [0, 5, 10, 60, good.len() - 1] {
            std::fs::write(&p, &good[..cut]).unwrap();
            assert!(Features::read(&p, Some(4)).is_err(), "cut at {cut}");
        }
        std::fs::write(&p, b"\x93NUMPY garbage garbage garbage").unwrap();
        assert!(Features::read(&p, Some(4)).is_err());
        // 1-D and 3-D arrays
        use npyz::WriterBuilder;
        let mut buf = Vec::new();
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[2, 2, 2])
            .writer(&mut buf)
            .begin_nd()
            .unwrap();
        w.extend([0f32; 8]).unwrap();
        w.finish().unwrap();
        std::fs::write(&p, &buf).unwrap();
        assert!(
            Features::read(&p, Some(2))
                .unwrap_err()
                .to_string()
                .contains("expected a 2-D feature array")
        );
        // integer dtype
        let mut buf = Vec::new();
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[2, 2])
            .writer(&mut buf)
            .begin_nd()
            .unwrap();
        w.extend([0i32; 4]).unwrap();
        w.finish().unwrap();
        std::fs::write(&p, &buf).unwrap();
        let e = Features::read(&p, Some(2)).unwrap_err().to_string();
        assert!(e.contains("expected float32 or float64 values"), "{e}");
    }
}
