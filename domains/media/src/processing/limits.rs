//! What Huddle accepts and produces, in one place. The file sizes and the video limits are
//! Mastodon's (app/models/media_attachment.rb), so Mastodon clients upload what they would there.

/// The largest image file accepted (Mastodon's 16 MB, in Rails' binary megabytes).
pub const MAX_IMAGE_BYTES: usize = 16 * 1024 * 1024;
/// The largest video file accepted (Mastodon's 99 MB).
pub const MAX_VIDEO_BYTES: usize = 99 * 1024 * 1024;

/// The most pixels an uploaded image may have; more is refused from its header, before decoding
/// (a PNG of a few KB can claim 100,000×100,000).
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;
/// The longest side an uploaded image may have.
pub const MAX_IMAGE_SIDE: u32 = 16_384;
/// The most pixels of the "original" rendition: 3840×2160's area, as Mastodon keeps originals.
pub const MAX_ORIGINAL_PIXELS: u64 = 3840 * 2160;
/// The longest side of each thumbnail, largest first.
pub const THUMBNAIL_SIDES: [u32; 2] = [640, 128];
/// The quality of the JPEG renditions.
pub const JPEG_QUALITY: u8 = 85;
/// Blurhash components across and down, as Mastodon computes them.
pub const BLURHASH_COMPONENTS: (u32, u32) = (4, 4);

/// A video's longer side may be at most this, and its shorter side at most
/// [`MAX_VIDEO_SHORT_SIDE`]: 3840×2160 either way up.
pub const MAX_VIDEO_LONG_SIDE: u32 = 3840;
pub const MAX_VIDEO_SHORT_SIDE: u32 = 2160;
/// The longest video accepted: 5 minutes.
pub const MAX_VIDEO_DURATION_MS: u64 = 5 * 60 * 1000;
