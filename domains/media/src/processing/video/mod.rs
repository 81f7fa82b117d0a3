//! Videos: the container checked by the walk in [`boxes`], then read with mp4parse (Mozilla's
//! parser: the `mp4` crate is unmaintained); the first video track's size and codec and the
//! movie's duration checked against Mastodon's limits. Videos are published as uploaded (no
//! transcoding), so these checks are what stands between an upload and every viewer's phone.
//!
//! Decisions:
//! * **MP4 and QuickTime are one kind.** A file declared `video/mp4` that sniffs as QuickTime (or
//!   the reverse) is accepted: both are ISO base media files read alike, and phones and browsers
//!   label `.mov` and `.mp4` loosely. An image or anything else declared as a video is a
//!   `type_mismatch`. What the file really is comes back in [`Processed::Video`]'s `media_type`,
//!   the type to serve it as.
//! * **H.264 and HEVC only.** H.264 plays everywhere; HEVC is what iPhones record, and every
//!   current phone decodes it. AV1 is refused: iPhones before the 15 Pro have no AV1 decoder, and
//!   their viewers would see a broken video. VP9, MPEG-4 Part 2, H.263, ProRes, Dolby Vision-only
//!   (`dvh1`) and encrypted tracks are refused too.
//! * **Sizes as displayed.** The limit is on the coded frame (3840×2160 either way up); the
//!   reported width and height are swapped when the track's matrix turns it a quarter (a phone's
//!   portrait video is coded 1920×1080 and shown 1080×1920).
//! * **The longest track is the duration.** A short video track beside an hour of audio is an
//!   hour long; a file that says no duration anywhere (a fragmented MP4 without `mehd`) cannot be
//!   checked, and is unreadable.

mod boxes;

use super::limits::{MAX_VIDEO_BYTES, MAX_VIDEO_DURATION_MS, MAX_VIDEO_LONG_SIDE, MAX_VIDEO_SHORT_SIDE};
use super::{sniff, Kind, MediaType, Processed, Rejection};
use mp4parse::{MediaContext, Track, TrackType};
use std::io::Cursor;

/// A video codec Huddle publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    H264,
    Hevc,
}

impl VideoCodec {
    pub fn as_str(self) -> &'static str {
        match self {
            VideoCodec::H264 => "h264",
            VideoCodec::Hevc => "hevc",
        }
    }

    /// The codec a sample entry's format names, if Huddle publishes it.
    fn from_sample_entry(format: &[u8; 4]) -> Option<Self> {
        match format {
            b"avc1" | b"avc3" => Some(VideoCodec::H264),
            b"hvc1" | b"hev1" => Some(VideoCodec::Hevc),
            _ => None,
        }
    }
}

const UNREADABLE: Rejection = Rejection::Unreadable { kind: Kind::Video };

pub(super) fn process(declared: MediaType, bytes: &[u8]) -> Result<Processed, Rejection> {
    let media_type = sniff(bytes)
        .filter(|sniffed| sniffed.kind() == Kind::Video)
        .ok_or(Rejection::TypeMismatch { declared })?;
    if bytes.len() > MAX_VIDEO_BYTES {
        return Err(Rejection::FileTooLarge { kind: Kind::Video });
    }
    let movie = boxes::check(bytes).map_err(|_| UNREADABLE)?;
    let context = mp4parse::read_mp4(&mut Cursor::new(&movie.moov)).map_err(|_| UNREADABLE)?;
    if !chunks_start_inside(&context, bytes.len()) {
        return Err(UNREADABLE);
    }
    let track = context.tracks.iter().find(|track| track.track_type == TrackType::Video);
    let track = track.ok_or(Rejection::NoVideoTrack)?;
    let entry = movie.first_entries.get(track.id).copied().flatten().ok_or(UNREADABLE)?;

    let codec = VideoCodec::from_sample_entry(&entry.format).ok_or(Rejection::UnsupportedCodec)?;
    let (coded_width, coded_height) = (u32::from(entry.width), u32::from(entry.height));
    if coded_width == 0 || coded_height == 0 {
        return Err(UNREADABLE);
    }
    if coded_width.max(coded_height) > MAX_VIDEO_LONG_SIDE
        || coded_width.min(coded_height) > MAX_VIDEO_SHORT_SIDE
    {
        return Err(Rejection::TooLargeDimensions { kind: Kind::Video });
    }
    let duration_ms = duration_ms(&context).filter(|duration| *duration > 0).ok_or(UNREADABLE)?;
    if duration_ms > MAX_VIDEO_DURATION_MS {
        return Err(Rejection::TooLong);
    }
    let (width, height) =
        if turned_a_quarter(track) { (coded_height, coded_width) } else { (coded_width, coded_height) };
    Ok(Processed::Video { media_type, width, height, duration_ms, codec })
}

/// A video [`process`] accepted, as it is published: its metadata blanked (see
/// [`boxes::scrubbed`]: places, times, devices), every sample as uploaded.
pub(super) fn scrub(bytes: &[u8]) -> Result<Vec<u8>, Rejection> {
    boxes::scrubbed(bytes).map_err(|_| UNREADABLE)
}

/// Whether every chunk of samples starts inside the file: one cut right after its `moov` has whole
/// boxes but no pictures.
fn chunks_start_inside(context: &MediaContext, file_length: usize) -> bool {
    let mut offsets =
        context.tracks.iter().filter_map(|track| track.stco.as_ref()).flat_map(|stco| stco.offsets.iter());
    offsets.all(|offset| *offset < file_length as u64)
}

/// The longest duration any track or the movie's fragments declare, in milliseconds.
fn duration_ms(context: &MediaContext) -> Option<u64> {
    let movie_timescale = context.timescale.map(|timescale| timescale.0);
    let in_movie_time =
        |duration: u64| movie_timescale.and_then(|timescale| milliseconds(duration, timescale));
    let tracks = context.tracks.iter().flat_map(|track| {
        let media = track
            .duration
            .zip(track.timescale)
            .and_then(|(duration, timescale)| milliseconds(duration.0, timescale.0));
        // A track header's duration of all ones (in either version) is "unknown".
        let header = track
            .tkhd
            .as_ref()
            .map(|tkhd| tkhd.duration)
            .filter(|duration| *duration != u64::from(u32::MAX) && *duration != u64::MAX)
            .and_then(in_movie_time);
        [media, header]
    });
    let fragments =
        context.mvex.as_ref().and_then(|mvex| mvex.fragment_duration).and_then(|d| in_movie_time(d.0));
    tracks.chain([fragments]).flatten().max()
}

fn milliseconds(duration: u64, timescale: u64) -> Option<u64> {
    if timescale == 0 {
        return None;
    }
    let milliseconds = u128::from(duration) * 1000 / u128::from(timescale);
    Some(u64::try_from(milliseconds).unwrap_or(u64::MAX))
}

/// Whether the track's matrix turns its frames a quarter (90° or 270°): a = d = 0 and b, c ≠ 0.
fn turned_a_quarter(track: &Track) -> bool {
    track.tkhd.as_ref().is_some_and(|tkhd| {
        let matrix = &tkhd.matrix;
        matrix.a == 0 && matrix.d == 0 && matrix.b != 0 && matrix.c != 0
    })
}
