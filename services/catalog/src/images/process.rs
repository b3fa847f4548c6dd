//! Checking and resizing uploads. Content is sniffed from its first bytes (the declared type is
//! ignored): only JPEG, PNG and WebP. The header's dimensions are checked before anything is
//! decoded, and decoding runs with limits, so a small file that expands to a huge bitmap (a
//! decompression bomb) is refused without allocating it. CPU-bound: call from `spawn_blocking`.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;

/// Upload limits: `max_bytes` of file, `max_pixels` of decoded image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageLimits {
    pub max_bytes: usize,
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_pixels: 40_000_000,
        }
    }
}

/// The longest side of each generated variant.
pub const MEDIUM_SIDE: u32 = 800;
pub const THUMBNAIL_SIDE: u32 = 200;
/// No side may exceed this, whatever the pixel budget.
const MAX_SIDE: u32 = 20_000;
const JPEG_QUALITY: u8 = 82;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    WebP,
}

impl Format {
    /// The format the bytes really are, whatever the client said.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0xFF, 0xD8, 0xFF, ..] => Some(Self::Jpeg),
            [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(Self::Png),
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'E',
                b'B',
                b'P',
                ..,
            ] => Some(Self::WebP),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::WebP => "webp",
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::WebP => ImageFormat::WebP,
        }
    }
}

/// An accepted upload: the original and its JPEG variants.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Content address: the same bytes always get the same id.
    pub id: String,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    pub original: Vec<u8>,
    pub medium: Vec<u8>,
    pub thumbnail: Vec<u8>,
}

fn refused(message: impl Into<String>) -> Error {
    Error::invalid("file", message)
}

/// Checks an upload and renders its variants.
pub fn process(bytes: Vec<u8>, limits: &ImageLimits) -> Result<Processed, Error> {
    if bytes.len() > limits.max_bytes {
        return Err(Error::TooLarge(format!(
            "The image is {} bytes; at most {} are accepted.",
            bytes.len(),
            limits.max_bytes
        )));
    }
    let format = Format::sniff(&bytes).ok_or_else(|| {
        Error::UnsupportedMedia("Only JPEG, PNG and WebP images are accepted.".into())
    })?;

    let (width, height) = ImageReader::with_format(Cursor::new(&bytes), format.image_format())
        .into_dimensions()
        .map_err(|_| refused("is not a readable image"))?;
    let pixels = u64::from(width) * u64::from(height);
    if width == 0
        || height == 0
        || width > MAX_SIDE
        || height > MAX_SIDE
        || pixels > limits.max_pixels
    {
        return Err(refused(format!(
            "is {width}×{height} pixels; at most {} pixels and {MAX_SIDE} per side are accepted",
            limits.max_pixels
        )));
    }

    let mut reader = ImageReader::with_format(Cursor::new(&bytes), format.image_format());
    let mut decode_limits = Limits::default();
    decode_limits.max_image_width = Some(MAX_SIDE);
    decode_limits.max_image_height = Some(MAX_SIDE);
    // RGBA at 16 bits per channel is the worst case; anything asking for more is lying.
    decode_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    reader.limits(decode_limits);
    let image = reader
        .decode()
        .map_err(|_| refused("is not a readable image"))?;

    let medium = encode_jpeg(&shrink(&image, MEDIUM_SIDE))?;
    let thumbnail = encode_jpeg(&shrink(&image, THUMBNAIL_SIDE))?;
    let digest = Sha256::digest(&bytes);
    let id: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    Ok(Processed {
        id,
        format,
        width,
        height,
        original: bytes,
        medium,
        thumbnail,
    })
}

/// Fits the image in a `side`×`side` box, never enlarging it.
fn shrink(image: &DynamicImage, side: u32) -> DynamicImage {
    if image.width() <= side && image.height() <= side {
        image.clone()
    } else {
        image.thumbnail(side, side)
    }
}

fn encode_jpeg(image: &DynamicImage) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&image.to_rgb8())
        .map_err(|e| Error::Internal(format!("JPEG encoding failed: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::png::PngEncoder;
    use image::{ImageEncoder, RgbImage};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut out = Vec::new();
        PngEncoder::new(&mut out)
            .write_image(
                image.as_raw(),
                width,
                height,
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        out
    }

    #[test]
    fn a_png_gets_jpeg_variants_within_their_boxes() {
        let processed = process(png(1200, 600), &ImageLimits::default()).unwrap();
        assert_eq!((processed.width, processed.height), (1200, 600));
        assert_eq!(processed.format, Format::Png);
        let medium = image::load_from_memory(&processed.medium).unwrap();
        assert_eq!((medium.width(), medium.height()), (800, 400));
        let thumbnail = image::load_from_memory(&processed.thumbnail).unwrap();
        assert_eq!((thumbnail.width(), thumbnail.height()), (200, 100));
        assert_eq!(processed.id.len(), 32);
    }

    #[test]
    fn text_pretending_to_be_an_image_is_refused() {
        let error = process(b"<?php echo 'hi'; ?>".to_vec(), &ImageLimits::default()).unwrap_err();
        assert!(matches!(error, Error::UnsupportedMedia(_)));
    }

    #[test]
    fn a_truncated_image_is_refused() {
        let mut bytes = png(64, 64);
        bytes.truncate(40);
        assert!(matches!(
            process(bytes, &ImageLimits::default()),
            Err(Error::Invalid(_))
        ));
    }
}
