//! The processing core the S3 ObjectCreated trigger calls on an upload's bytes: what the file
//! really is ([`sniff`]), and [`process`], which checks it against what the upload declared and
//! either makes what Huddle publishes of it or says why not ([`Rejection`]). Pure and
//! deterministic: no I/O, no clock, no async.

mod image;
pub mod limits;
mod media_type;
mod rejection;
mod sniff;
mod video;

pub use media_type::{Kind, MediaType, UnacceptedMediaType};
pub use rejection::Rejection;
pub use sniff::sniff;
pub use video::VideoCodec;

use std::panic::{catch_unwind, UnwindSafe};

/// What Huddle publishes of an accepted upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Processed {
    /// An image, upright and stripped of its metadata (the decisions are `processing/image.rs`'s).
    Image {
        /// The upload's size as displayed (after its EXIF orientation, before any downscaling).
        width: u32,
        height: u32,
        /// The image to show, at most [`limits::MAX_ORIGINAL_PIXELS`].
        original: Rendition,
        /// Smaller renditions, largest first, each strictly smaller than `original`.
        thumbnails: Vec<Rendition>,
        blurhash: String,
    },
    /// A video, published as uploaded.
    Video {
        /// What the file really is (MP4 or QuickTime), the type to serve it as.
        media_type: MediaType,
        /// As displayed (after the track's rotation).
        width: u32,
        height: u32,
        duration_ms: u64,
        codec: VideoCodec,
    },
}

/// One encoded image file to store.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendition {
    pub bytes: Vec<u8>,
    /// JPEG for opaque images, PNG for transparent ones.
    pub media_type: MediaType,
    pub width: u32,
    pub height: u32,
}

impl std::fmt::Debug for Rendition {
    /// Sizes, not bytes.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Rendition")
            .field("bytes", &self.bytes.len())
            .field("media_type", &self.media_type)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

/// Processes an upload declared as `declared`.
///
/// A panic inside a decoder or parser on hostile input is caught and answered as
/// [`Rejection::Unreadable`]. That needs unwinding, which the workspace's release profile keeps.
pub fn process(declared: MediaType, bytes: &[u8]) -> Result<Processed, Rejection> {
    answered_without_panicking(declared.kind(), || match declared.kind() {
        Kind::Image => image::process(declared, bytes),
        Kind::Video => video::process(declared, bytes),
    })
}

/// A video [`process`] accepted, as it may be published: its user data, metadata keys and XMP
/// (where it was filmed, on what) blanked to `free` boxes of zeros, and its creation times
/// zeroed; every sample, and so every chunk offset, as uploaded. An image needs nothing of the
/// kind: [`process`] re-encodes it from its pixels.
pub fn scrub_video(bytes: &[u8]) -> Result<Vec<u8>, Rejection> {
    video::scrub(bytes)
}

fn answered_without_panicking(
    kind: Kind,
    processing: impl FnOnce() -> Result<Processed, Rejection> + UnwindSafe,
) -> Result<Processed, Rejection> {
    catch_unwind(processing).unwrap_or(Err(Rejection::Unreadable { kind }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_processing_is_an_unreadable_file() {
        let answer = answered_without_panicking(Kind::Video, || panic!("a decoder's bug"));
        assert_eq!(answer, Err(Rejection::Unreadable { kind: Kind::Video }));
    }
}
