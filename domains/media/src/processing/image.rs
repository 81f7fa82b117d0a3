//! Images: checked from their header before any decoding, decoded, turned upright by their EXIF
//! orientation, and re-encoded from pixels alone into the renditions Huddle serves.
//!
//! * **No metadata survives.** Outputs are encoded from decoded pixels, so they carry no EXIF
//!   (GPS positions included), XMP, ICC profile, comment or text chunk. Colours of a photo in a
//!   wide-gamut profile (Display P3) are kept as numbers, not converted, as Mastodon strips ICC.
//! * **JPEG for opaque images, PNG for transparent ones**, whatever the input (WebP included):
//!   JPEG at quality [`JPEG_QUALITY`] when every pixel is opaque (an alpha channel that is all
//!   opaque counts as opaque), PNG when any pixel is transparent. An animated input keeps its
//!   first frame.
//! * **Renditions.** The original is downscaled to at most [`MAX_ORIGINAL_PIXELS`] (keeping its
//!   aspect ratio, never upscaled). Thumbnails fit [`THUMBNAIL_SIDES`] on their longer side; a
//!   thumbnail size that would be no smaller than the original is skipped (the original already
//!   serves as it), so `thumbnails` holds 0 to 2 renditions, largest first, each strictly smaller
//!   than the original. Resizing is Lanczos3 (`fast_image_resize`), each rendition from the one
//!   before it. The blurhash ([`BLURHASH_COMPONENTS`]) is computed from the smallest rendition.
//! * **Bounds.** More than [`MAX_IMAGE_PIXELS`] or a side over [`MAX_IMAGE_SIDE`] is refused from
//!   the header, before the decoder allocates its image; `image`'s `Limits` cap what a decoder
//!   allocates besides (PNG's metadata chunks, compressed or not).

use super::limits::{
    BLURHASH_COMPONENTS, JPEG_QUALITY, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE,
    MAX_ORIGINAL_PIXELS, THUMBNAIL_SIDES,
};
use super::{sniff, Kind, MediaType, Processed, Rejection, Rendition};
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::metadata::Orientation;
use image::{
    DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, ImageError, ImageFormat, ImageReader, Limits,
};
use std::io::Cursor;

/// What a decoder may allocate besides the image itself (PNG's text, ICC and EXIF chunks).
const DECODER_MAX_ALLOC: u64 = 64 * 1024 * 1024;

const UNREADABLE: Rejection = Rejection::Unreadable { kind: Kind::Image };

pub(super) fn process(declared: MediaType, bytes: &[u8]) -> Result<Processed, Rejection> {
    if sniff(bytes) != Some(declared) {
        return Err(Rejection::TypeMismatch { declared });
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(Rejection::FileTooLarge { kind: Kind::Image });
    }
    let upright = Pixels::from(decode_upright(declared, bytes)?);
    let (width, height) = (upright.width, upright.height);

    let mut resizer = Resizer::new();
    let original_size = fit_area((width, height), MAX_ORIGINAL_PIXELS);
    let original = if original_size == (width, height) {
        upright
    } else {
        upright.resized(&mut resizer, original_size)?
    };
    let mut renditions = vec![original];
    for side in THUMBNAIL_SIDES {
        if let Some(size) = fit_longest_side(renditions[0].size(), side) {
            // The smallest so far is the cheapest source, and still larger than this size.
            let thumbnail = renditions[renditions.len() - 1].resized(&mut resizer, size)?;
            renditions.push(thumbnail);
        }
    }
    let blurhash = renditions[renditions.len() - 1].blurhash()?;
    let mut encoded = renditions.iter().map(Pixels::encoded).collect::<Result<Vec<_>, _>>()?;
    let original = encoded.remove(0);
    Ok(Processed::Image { width, height, original, thumbnails: encoded, blurhash })
}

/// Decodes within the bounds, then applies the EXIF orientation.
fn decode_upright(declared: MediaType, bytes: &[u8]) -> Result<DynamicImage, Rejection> {
    let format = match declared {
        MediaType::Jpeg => ImageFormat::Jpeg,
        MediaType::Png => ImageFormat::Png,
        MediaType::Webp => ImageFormat::WebP,
        MediaType::Mp4 | MediaType::QuickTime => return Err(Rejection::TypeMismatch { declared }),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(DECODER_MAX_ALLOC);
    reader.limits(limits);
    // Reads the header only.
    let mut decoder = reader.into_decoder().map_err(rejection)?;
    check_size(decoder.dimensions())?;
    // An orientation that cannot be read leaves the image as it is stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(rejection)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn check_size((width, height): (u32, u32)) -> Result<(), Rejection> {
    if u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS {
        return Err(Rejection::TooManyPixels);
    }
    if width.max(height) > MAX_IMAGE_SIDE {
        return Err(Rejection::TooLargeDimensions { kind: Kind::Image });
    }
    if width == 0 || height == 0 {
        return Err(UNREADABLE);
    }
    Ok(())
}

/// A decoder that ran out of what its `Limits` allow was asked for too large an image.
fn rejection(error: ImageError) -> Rejection {
    match error {
        ImageError::Limits(_) => Rejection::TooManyPixels,
        _ => UNREADABLE,
    }
}

/// The size within `max_pixels` with the aspect ratio of `size` (rounded down); `size` itself if
/// it is within already.
fn fit_area((width, height): (u32, u32), max_pixels: u64) -> (u32, u32) {
    if u64::from(width) * u64::from(height) <= max_pixels {
        return (width, height);
    }
    // The largest w with w × (w × height / width) ≤ max_pixels; the height follows from it.
    let fitted_width = (max_pixels * u64::from(width) / u64::from(height)).isqrt().max(1);
    let fitted_height = (u64::from(height) * fitted_width / u64::from(width)).max(1);
    (narrow(fitted_width), narrow(fitted_height))
}

/// The size whose longer side is `side`, with the aspect ratio of `size`; `None` when `size` is no
/// larger already.
fn fit_longest_side((width, height): (u32, u32), side: u32) -> Option<(u32, u32)> {
    let longest = width.max(height);
    if longest <= side {
        return None;
    }
    let scaled = |shorter: u32| {
        narrow(((u64::from(shorter) * u64::from(side) + u64::from(longest) / 2) / u64::from(longest)).max(1))
    };
    Some(if width >= height { (side, scaled(height)) } else { (scaled(width), side) })
}

/// A computed size is never larger than the size it was computed from, which fits in a `u32`.
fn narrow(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Decoded pixels, 8 bits a channel: RGB, or RGBA when any pixel is transparent.
struct Pixels {
    width: u32,
    height: u32,
    transparent: bool,
    data: Vec<u8>,
}

impl From<DynamicImage> for Pixels {
    fn from(image: DynamicImage) -> Self {
        let (width, height) = (image.width(), image.height());
        if image.color().has_alpha() {
            let rgba = image.into_rgba8();
            if rgba.pixels().any(|pixel| pixel[3] < u8::MAX) {
                return Pixels { width, height, transparent: true, data: rgba.into_raw() };
            }
            let rgb = DynamicImage::ImageRgba8(rgba).into_rgb8();
            return Pixels { width, height, transparent: false, data: rgb.into_raw() };
        }
        Pixels { width, height, transparent: false, data: image.into_rgb8().into_raw() }
    }
}

impl Pixels {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn pixel_type(&self) -> PixelType {
        if self.transparent {
            PixelType::U8x4
        } else {
            PixelType::U8x3
        }
    }

    fn resized(&self, resizer: &mut Resizer, (width, height): (u32, u32)) -> Result<Pixels, Rejection> {
        // The buffers are made for their sizes and pixel type, so resizing cannot fail on them;
        // should it, the image is refused rather than the process taken down.
        let source =
            ImageRef::new(self.width, self.height, &self.data, self.pixel_type()).map_err(|_| UNREADABLE)?;
        let mut target = Image::new(width, height, self.pixel_type());
        // Alpha is premultiplied for the filter and divided back (fast_image_resize's default).
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
        resizer.resize(&source, &mut target, &options).map_err(|_| UNREADABLE)?;
        Ok(Pixels { width, height, transparent: self.transparent, data: target.into_vec() })
    }

    fn blurhash(&self) -> Result<String, Rejection> {
        let rgba: Vec<u8> = if self.transparent {
            self.data.clone()
        } else {
            self.data.chunks_exact(3).flat_map(|rgb| [rgb[0], rgb[1], rgb[2], u8::MAX]).collect()
        };
        let (across, down) = BLURHASH_COMPONENTS;
        blurhash::encode(across, down, self.width, self.height, &rgba).map_err(|_| UNREADABLE)
    }

    fn encoded(&self) -> Result<Rendition, Rejection> {
        let mut bytes = Vec::new();
        let (media_type, written) = if self.transparent {
            let encoder = PngEncoder::new(&mut bytes);
            (
                MediaType::Png,
                encoder.write_image(&self.data, self.width, self.height, ExtendedColorType::Rgba8),
            )
        } else {
            let encoder = JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY);
            (
                MediaType::Jpeg,
                encoder.write_image(&self.data, self.width, self.height, ExtendedColorType::Rgb8),
            )
        };
        written.map_err(|_| UNREADABLE)?;
        Ok(Rendition { bytes, media_type, width: self.width, height: self.height })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_within_the_area_keeps_its_size() {
        assert_eq!(fit_area((3840, 2160), MAX_ORIGINAL_PIXELS), (3840, 2160));
        assert_eq!(fit_area((40, 20), MAX_ORIGINAL_PIXELS), (40, 20));
    }

    #[test]
    fn a_larger_image_fits_the_area_with_its_aspect_ratio() {
        for size in [(4000, 3000), (3000, 4000), (16_384, 2_441), (7680, 4320), (12_000, 1), (5000, 5000)] {
            let (width, height) = fit_area(size, MAX_ORIGINAL_PIXELS);
            assert!(
                u64::from(width) * u64::from(height) <= MAX_ORIGINAL_PIXELS,
                "{size:?} → {width}×{height}"
            );
            // Within a pixel of the largest size of that aspect ratio.
            let area = f64::from(width + 1) * f64::from(height + 1);
            assert!(area > MAX_ORIGINAL_PIXELS as f64 || height == 1, "{size:?} → {width}×{height}");
            let (aspect, fitted) =
                (f64::from(size.0) / f64::from(size.1), f64::from(width) / f64::from(height));
            assert!((aspect / fitted - 1.0).abs() < 0.01 || height == 1, "{size:?} → {width}×{height}");
        }
        assert_eq!(fit_area((7680, 4320), MAX_ORIGINAL_PIXELS), (3840, 2160));
    }

    #[test]
    fn thumbnails_fit_their_longer_side_and_are_never_upscaled() {
        assert_eq!(fit_longest_side((4000, 3000), 640), Some((640, 480)));
        assert_eq!(fit_longest_side((3000, 4000), 128), Some((96, 128)));
        assert_eq!(fit_longest_side((10_000, 3), 128), Some((128, 1)));
        assert_eq!(fit_longest_side((640, 200), 640), None);
        assert_eq!(fit_longest_side((20, 40), 128), None);
    }
}
