//! Hostile bytes: a few hundred seeded mutations (bit flips, overwrites, box-size-like numbers,
//! truncations, insertions, deletions, copied runs) of real uploads. `process` must answer every
//! one with what it made or a `Rejection`, and nothing on the way may panic: `process` catches
//! panics, but a `panic = "abort"` build cannot, so this test counts panics even when caught.

mod samples;

use huddle_media::processing::{process, MediaType};
use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use rand::rngs::StdRng;
use rand::Rng;
use samples::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

const ROUNDS: usize = 600;

static PANICS: AtomicUsize = AtomicUsize::new(0);

fn uploads() -> Vec<(MediaType, Vec<u8>)> {
    let translucent =
        RgbaImage::from_fn(40, 20, |x, y| Rgba([200, 30, 30, if (x + y) % 3 == 0 { 90 } else { 255 }]));
    let opaque = DynamicImage::ImageRgb8(red_left_blue_right(48, 32));
    vec![
        (MediaType::Jpeg, jpeg_with_exif(&red_left_blue_right(64, 48), &exif(6))),
        (
            MediaType::Png,
            png_with_chunks(&DynamicImage::ImageRgba8(translucent), &[png_chunk(b"eXIf", &exif(6))]),
        ),
        (MediaType::Webp, encoded(&opaque, ImageFormat::WebP)),
        (MediaType::Mp4, fixture(H264_MP4)),
        (MediaType::QuickTime, fixture(HEVC_MOV)),
        (MediaType::Mp4, fixture(AV1_MP4)),
        (MediaType::Mp4, fixture(AUDIO_ONLY_MP4)),
    ]
}

/// One to three random edits.
fn mutated(original: &[u8], rng: &mut StdRng) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for _ in 0..rng.random_range(1..=3) {
        if bytes.len() < 2 {
            break;
        }
        let at = rng.random_range(0..bytes.len());
        match rng.random_range(0..7) {
            0 => bytes[at] ^= 1 << rng.random_range(0..8),
            1 => bytes[at] = rng.random(),
            2 => {
                // What a box or chunk size field might be made to say.
                let length = bytes.len() as u32;
                let sizes = [0, 1, 7, 8, u32::MAX, u32::MAX / 2, length, length + 1, rng.random()];
                let size = sizes[rng.random_range(0..sizes.len())].to_be_bytes();
                let end = (at + 4).min(bytes.len());
                bytes[at..end].copy_from_slice(&size[..end - at]);
            }
            3 => bytes.truncate(at),
            4 => {
                let inserted: Vec<u8> = (0..rng.random_range(1..=16)).map(|_| rng.random()).collect();
                bytes.splice(at..at, inserted);
            }
            5 => {
                let end = rng.random_range(at..=bytes.len().min(at + 64));
                bytes.drain(at..end);
            }
            _ => {
                let end = rng.random_range(at..=bytes.len().min(at + 64));
                let run = bytes[at..end].to_vec();
                let to = rng.random_range(0..bytes.len());
                bytes.splice(to..to, run);
            }
        }
    }
    bytes
}

/// Rewrites each whole chunk's CRC, so that mutations reach the PNG decoder rather than stop at
/// the checksum.
fn with_png_checksums_fixed(mut png: Vec<u8>) -> Vec<u8> {
    let mut at = 8;
    while at + 12 <= png.len() {
        let length = read_u32(&png, at) as usize;
        let Some(crc_at) = (at + 8).checked_add(length).filter(|end| end + 4 <= png.len()) else { break };
        let crc = crc32fast::hash(&png[at + 4..crc_at]);
        write_u32(&mut png, crc_at, crc);
        at = crc_at + 4;
    }
    png
}

#[test]
fn mutated_uploads_are_answered_without_a_panic() {
    std::panic::set_hook(Box::new(|info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        eprintln!("{info}");
    }));
    let uploads = uploads();
    let mut rng = seeded_rng("mutated_uploads_are_answered_without_a_panic");
    let mut answers: BTreeMap<&str, usize> = BTreeMap::new();
    for round in 0..ROUNDS {
        let (declared, original) = &uploads[round % uploads.len()];
        let mut bytes = mutated(original, &mut rng);
        if *declared == MediaType::Png && rng.random_bool(0.5) {
            bytes = with_png_checksums_fixed(bytes);
        }
        let answer = process(*declared, &bytes);
        assert_eq!(
            PANICS.load(Ordering::SeqCst),
            0,
            "round {round}: a panic processing a mutated {declared}"
        );
        *answers
            .entry(answer.as_ref().map_or_else(|rejection| rejection.code(), |_| "processed"))
            .or_default() += 1;
    }
    println!("{answers:?}");
    // The mutations neither all break the files nor all leave them whole.
    assert!(answers.get("processed").is_some_and(|processed| *processed < ROUNDS));
    assert!(answers.len() > 2, "{answers:?}");
}
