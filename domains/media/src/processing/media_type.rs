//! The media types Huddle accepts, named by their MIME strings. The API checks a declared content
//! type with [`MediaType::from_str`]; processing checks the bytes against it with
//! [`sniff`](super::sniff).

use std::fmt;
use std::str::FromStr;

/// An accepted media type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaType {
    Jpeg,
    Png,
    Webp,
    Mp4,
    QuickTime,
}

/// Whether a media type is a still image or a video.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Image,
    Video,
}

/// A content type that is not one of the accepted [`MediaType`]s.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an accepted media type (image/jpeg, image/png, image/webp, video/mp4 or video/quicktime)")]
pub struct UnacceptedMediaType;

impl MediaType {
    pub const ALL: [MediaType; 5] =
        [MediaType::Jpeg, MediaType::Png, MediaType::Webp, MediaType::Mp4, MediaType::QuickTime];

    /// The MIME type, as a `Content-Type` header carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Webp => "image/webp",
            MediaType::Mp4 => "video/mp4",
            MediaType::QuickTime => "video/quicktime",
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            MediaType::Jpeg | MediaType::Png | MediaType::Webp => Kind::Image,
            MediaType::Mp4 | MediaType::QuickTime => Kind::Video,
        }
    }

    /// The type as a sentence names it ("a PNG image"), for reasons given to users.
    pub(crate) fn described(self) -> &'static str {
        match self {
            MediaType::Jpeg => "a JPEG image",
            MediaType::Png => "a PNG image",
            MediaType::Webp => "a WebP image",
            MediaType::Mp4 => "an MP4 video",
            MediaType::QuickTime => "a QuickTime video",
        }
    }
}

impl FromStr for MediaType {
    type Err = UnacceptedMediaType;

    /// The MIME type without parameters; case does not matter (RFC 9110 §8.3.1).
    fn from_str(content_type: &str) -> Result<Self, Self::Err> {
        MediaType::ALL
            .into_iter()
            .find(|media_type| media_type.as_str().eq_ignore_ascii_case(content_type))
            .ok_or(UnacceptedMediaType)
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_reads_back_from_its_mime_string_in_any_case() {
        for media_type in MediaType::ALL {
            assert_eq!(media_type.as_str().parse(), Ok(media_type));
            assert_eq!(media_type.as_str().to_ascii_uppercase().parse(), Ok(media_type));
        }
    }

    #[test]
    fn other_content_types_are_not_accepted() {
        for content_type in ["image/gif", "image/jpg", "video/mp4; codecs=avc1", "image/png ", "", "video"] {
            assert_eq!(content_type.parse::<MediaType>(), Err(UnacceptedMediaType), "{content_type:?}");
        }
    }

    #[test]
    fn images_and_videos_are_told_apart() {
        let kinds: Vec<Kind> = MediaType::ALL.into_iter().map(MediaType::kind).collect();
        assert_eq!(kinds, [Kind::Image, Kind::Image, Kind::Image, Kind::Video, Kind::Video]);
    }
}
