//! Why an upload was refused: a stable code for machines and a sentence for people. Neither
//! carries anything of the file (no bytes, names or paths), so both may be stored and logged.

use super::limits::{
    MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, MAX_VIDEO_BYTES, MAX_VIDEO_DURATION_MS,
    MAX_VIDEO_LONG_SIDE, MAX_VIDEO_SHORT_SIDE,
};
use super::{Kind, MediaType};

/// An upload that will not be published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.reason())]
pub enum Rejection {
    /// The bytes are not what the upload declared (or not any accepted type).
    TypeMismatch { declared: MediaType },
    /// The file is larger than [`MAX_IMAGE_BYTES`] or [`MAX_VIDEO_BYTES`].
    FileTooLarge { kind: Kind },
    /// Damaged, truncated or malformed past its first bytes (a decoder panic counts as this too).
    Unreadable { kind: Kind },
    /// An image with more than [`MAX_IMAGE_PIXELS`].
    TooManyPixels,
    /// An image side over [`MAX_IMAGE_SIDE`], or a video over 3840×2160 either way up.
    TooLargeDimensions { kind: Kind },
    /// A container with no video track (audio only, say).
    NoVideoTrack,
    /// A video longer than [`MAX_VIDEO_DURATION_MS`].
    TooLong,
    /// A video codec phones cannot all play (anything but H.264 and HEVC).
    UnsupportedCodec,
}

impl Rejection {
    /// The stable machine code, for the API's error body and for metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::TypeMismatch { .. } => "type_mismatch",
            Rejection::FileTooLarge { .. } => "file_too_large",
            Rejection::Unreadable { .. } => "unreadable",
            Rejection::TooManyPixels => "too_many_pixels",
            Rejection::TooLargeDimensions { .. } => "too_large_dimensions",
            Rejection::NoVideoTrack => "no_video_track",
            Rejection::TooLong => "too_long",
            Rejection::UnsupportedCodec => "unsupported_codec",
        }
    }

    /// What a user is told.
    pub fn reason(&self) -> String {
        const MB: usize = 1024 * 1024;
        match self {
            Rejection::TypeMismatch { declared } => format!("The file is not {}.", declared.described()),
            Rejection::FileTooLarge { kind: Kind::Image } => {
                format!("The image is larger than {} MB.", MAX_IMAGE_BYTES / MB)
            }
            Rejection::FileTooLarge { kind: Kind::Video } => {
                format!("The video is larger than {} MB.", MAX_VIDEO_BYTES / MB)
            }
            Rejection::Unreadable { kind: Kind::Image } => "The image is damaged and cannot be read.".into(),
            Rejection::Unreadable { kind: Kind::Video } => {
                "The video is damaged or incomplete and cannot be read.".into()
            }
            Rejection::TooManyPixels => {
                format!("The image has more than {} million pixels.", MAX_IMAGE_PIXELS / 1_000_000)
            }
            Rejection::TooLargeDimensions { kind: Kind::Image } => {
                format!("The image is wider or taller than {MAX_IMAGE_SIDE} pixels.")
            }
            Rejection::TooLargeDimensions { kind: Kind::Video } => {
                format!("The video is larger than {MAX_VIDEO_LONG_SIDE}×{MAX_VIDEO_SHORT_SIDE}.")
            }
            Rejection::NoVideoTrack => "The file has no video in it.".into(),
            Rejection::TooLong => {
                format!("The video is longer than {} minutes.", MAX_VIDEO_DURATION_MS / 60_000)
            }
            Rejection::UnsupportedCodec => {
                "The video is in a format phones cannot play; please send H.264 or HEVC video.".into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn every_rejection() -> Vec<Rejection> {
        let mut all = vec![
            Rejection::TooManyPixels,
            Rejection::NoVideoTrack,
            Rejection::TooLong,
            Rejection::UnsupportedCodec,
        ];
        all.extend(MediaType::ALL.map(|declared| Rejection::TypeMismatch { declared }));
        for kind in [Kind::Image, Kind::Video] {
            all.extend([
                Rejection::FileTooLarge { kind },
                Rejection::Unreadable { kind },
                Rejection::TooLargeDimensions { kind },
            ]);
        }
        all
    }

    #[test]
    fn codes_are_snake_case_and_name_one_cause_each() {
        let codes: HashSet<&str> = every_rejection().iter().map(Rejection::code).collect();
        assert_eq!(codes.len(), 8);
        assert!(codes.iter().all(|code| code.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
    }

    #[test]
    fn reasons_are_sentences_with_the_limits_in_them() {
        for rejection in every_rejection() {
            let reason = rejection.reason();
            assert!(reason.starts_with("The ") && reason.ends_with('.'), "{reason}");
            assert_eq!(rejection.to_string(), reason);
        }
        assert_eq!(
            Rejection::TypeMismatch { declared: MediaType::Png }.reason(),
            "The file is not a PNG image."
        );
        assert_eq!(Rejection::TooLong.reason(), "The video is longer than 5 minutes.");
        assert_eq!(Rejection::FileTooLarge { kind: Kind::Image }.reason(), "The image is larger than 16 MB.");
        assert_eq!(Rejection::TooManyPixels.reason(), "The image has more than 40 million pixels.");
        assert_eq!(
            Rejection::TooLargeDimensions { kind: Kind::Video }.reason(),
            "The video is larger than 3840×2160."
        );
    }
}
