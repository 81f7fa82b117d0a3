//! Videos are published without what they tell of where, when and on what they were made: the
//! user data and metadata boxes (a phone's GPS position among them) are blanked, creation times
//! zeroed, and the result is the same video.

mod samples;

use huddle_media::processing::{process, scrub_video, MediaType};
use samples::*;

const PLACE: &[u8] = b"\xa9xyz+52.3700+004.8900/";

/// The H.264 fixture with a location in its movie's user data, as Android writes `©xyz`.
fn filmed_somewhere() -> Vec<u8> {
    let mut video = fixture(H264_MP4);
    let user_data = box_at(&video, b"udta");
    video[user_data + 12..user_data + 12 + PLACE.len()].copy_from_slice(PLACE);
    video
}

#[test]
fn a_videos_place_and_times_are_blanked_and_the_video_is_the_same() {
    let video = filmed_somewhere();
    assert!(contains(&video, PLACE));
    let mvhd = box_at(&video, b"mvhd");
    let scrubbed = scrub_video(&video).unwrap();

    assert_eq!(scrubbed.len(), video.len(), "every chunk offset stays where it was");
    assert!(!contains(&scrubbed, PLACE), "no location");
    assert!(!contains(&scrubbed, b"udta") && !contains(&scrubbed, b"ilst"), "no user data or metadata box");
    assert_eq!(&scrubbed[mvhd + 12..mvhd + 20], &[0; 8], "no creation or modification time");
    assert_eq!(process(MediaType::Mp4, &scrubbed), process(MediaType::Mp4, &video), "the same video");
    let mdat = box_at(&video, b"mdat");
    assert_eq!(&scrubbed[mdat..], &video[mdat..], "every sample as uploaded");
}

#[test]
fn apple_metadata_keys_in_the_movie_are_blanked_too() {
    // The same box as a movie-level `meta`, where an iPhone keeps its ISO 6709 location key.
    let mut video = filmed_somewhere();
    let user_data = box_at(&video, b"udta");
    video[user_data + 4..user_data + 8].copy_from_slice(b"meta");
    let scrubbed = scrub_video(&video).unwrap();
    assert!(!contains(&scrubbed, PLACE));
    assert_eq!(&scrubbed[user_data + 4..user_data + 8], b"free");
}
