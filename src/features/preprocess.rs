//! Evaluation preprocessing: shorter side to 256 (keeping the aspect ratio, as torchvision's
//! `Resize(256)` computes the longer side), centre crop 224×224, scale to [0, 1], normalise.
//! Video frames are resized by swscale while decoding; photographs by the `image` crate.

use candle_core::{Device, Result, Tensor};
use image::RgbImage;

use super::{INPUT_SIZE, Normalization, RESIZE_SHORTER};

/// The size a `width` × `height` picture is resized to before the centre crop.
pub fn resized_size(width: u32, height: u32) -> (u32, u32) {
    let (short, long) = (width.min(height) as u64, width.max(height) as u64);
    let scaled_long = (RESIZE_SHORTER as u64 * long / short.max(1)) as u32;
    if width <= height { (RESIZE_SHORTER, scaled_long) } else { (scaled_long, RESIZE_SHORTER) }
}

/// Appends the normalised centre crop of a packed RGB picture (`width` × `height`, at least
/// 224 on each side) to `out`, channels first.
pub fn push_center_crop(
    rgb: &[u8],
    width: u32,
    height: u32,
    norm: Normalization,
    out: &mut Vec<f32>,
) {
    let side = INPUT_SIZE as usize;
    let (w, h) = (width as usize, height as usize);
    assert!(
        w >= side && h >= side && rgb.len() == w * h * 3,
        "picture {w}×{h} smaller than the crop"
    );
    // torchvision's CenterCrop rounds the offset to the nearest pixel
    let top = ((h - side) as f64 / 2.0).round() as usize;
    let left = ((w - side) as f64 / 2.0).round() as usize;
    for c in 0..3 {
        let (mean, std) = (norm.mean[c], norm.std[c]);
        for y in 0..side {
            let row = &rgb[((top + y) * w + left) * 3..((top + y) * w + left + side) * 3];
            out.extend(row.chunks_exact(3).map(|px| (px[c] as f32 / 255.0 - mean) / std));
        }
    }
}

/// One photograph as a [1, 3, 224, 224] tensor.
pub fn image_tensor(img: &RgbImage, norm: Normalization, device: &Device) -> Result<Tensor> {
    let (w, h) = resized_size(img.width(), img.height());
    let resized = image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle);
    let side = INPUT_SIZE as usize;
    let mut data = Vec::with_capacity(3 * side * side);
    push_center_crop(resized.as_raw(), w, h, norm, &mut data);
    Tensor::from_vec(data, (1, 3, side, side), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorter_side_becomes_256_and_aspect_is_kept() {
        assert_eq!(resized_size(451, 300), (384, 256));
        assert_eq!(resized_size(300, 451), (256, 384));
        assert_eq!(resized_size(320, 240), (341, 256));
        assert_eq!(resized_size(256, 256), (256, 256));
    }

    #[test]
    fn crop_is_centred_channels_first_and_normalised() {
        // 226×224 picture whose red channel is the column index: the crop starts at column 1
        let (w, h) = (226u32, 224u32);
        let rgb: Vec<u8> = (0..h).flat_map(|_| (0..w).flat_map(|x| [x as u8, 255, 0])).collect();
        let norm = Normalization { mean: [0.0; 3], std: [1.0; 3] };
        let mut out = Vec::new();
        push_center_crop(&rgb, w, h, norm, &mut out);
        let plane = 224 * 224;
        assert_eq!(out.len(), 3 * plane);
        assert_eq!(out[0], 1.0 / 255.0);
        assert_eq!(out[223], 224.0 / 255.0);
        assert!(out[plane..2 * plane].iter().all(|&v| v == 1.0));
        assert!(out[2 * plane..].iter().all(|&v| v == 0.0));
        let norm = Normalization { mean: [0.5; 3], std: [0.5; 3] };
        out.clear();
        push_center_crop(&rgb, w, h, norm, &mut out);
        assert_eq!(out[plane], 1.0);
        assert_eq!(out[2 * plane], -1.0);
    }
}
