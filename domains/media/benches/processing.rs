//! Media processing benchmarks (a bench binary, not a timed test), release build, one thread as
//! one Lambda invocation runs it:
//!
//! * a phone-sized photo: a 4000×3000 (12 MP) JPEG of noise made here, close to the 16 MB upload
//!   limit, processed into its original (downscaled to 3840×2160's area), two thumbnails and a
//!   blurhash; and, to show where that time goes, decoding the photo and encoding an original of
//!   that size alone;
//! * the H.264 MP4 fixture (2 s, 160×120) and the HEVC QuickTime fixture, checked and read.
//!
//! Run: `cargo bench -p huddle-media --bench processing`.

#[path = "../tests/samples/mod.rs"]
mod samples;

use huddle_media::processing::limits::JPEG_QUALITY;
use huddle_media::processing::{process, MediaType, Processed};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::ImageFormat;
use samples::noisy_photo;
use std::time::{Duration, Instant};

fn main() {
    let photo = noisy_photo(4000, 3000);
    println!("photo: 4000×3000 JPEG of {:.1} MB", photo.len() as f64 / 1e6);
    let mut made = None;
    let photo_runs = timed(9, || made = Some(process(MediaType::Jpeg, &photo)));
    if let Some(Ok(Processed::Image { original, thumbnails, .. })) = made {
        let sizes: Vec<String> = thumbnails.iter().map(|t| format!("{}×{}", t.width, t.height)).collect();
        println!(
            "  → original {}×{} ({:.1} MB), thumbnails {}",
            original.width,
            original.height,
            original.bytes.len() as f64 / 1e6,
            sizes.join(", ")
        );
    } else {
        panic!("the photo was not processed: {made:?}");
    }
    println!("process, 12 MP JPEG photo: {}", summary(photo_runs));
    // Where that time goes: the two steps `image` does alone.
    let mut decoded = None;
    let decoding =
        timed(5, || decoded = Some(image::load_from_memory_with_format(&photo, ImageFormat::Jpeg).unwrap()));
    println!("  of which decoding the JPEG (image, zune-jpeg): {}", summary(decoding));
    let original = decoded.unwrap().resize_exact(3325, 2493, FilterType::Nearest).into_rgb8();
    let encoding = timed(5, || {
        JpegEncoder::new_with_quality(&mut Vec::new(), JPEG_QUALITY).encode_image(&original).unwrap();
    });
    println!("  of which encoding the 3325×2493 original (image's JPEG encoder): {}", summary(encoding));

    for (declared, name) in
        [(MediaType::Mp4, "h264-160x120-2s.mp4"), (MediaType::QuickTime, "hevc-160x90-1s.mov")]
    {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
        let video = std::fs::read(&path).unwrap();
        let runs = timed(1000, || assert!(process(declared, &video).is_ok()));
        println!("process, {name} ({} bytes): {}", video.len(), summary(runs));
    }
}

fn timed(runs: usize, mut run: impl FnMut()) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .collect()
}

fn summary(mut runs: Vec<Duration>) -> String {
    runs.sort();
    let at = |fraction: f64| runs[((runs.len() - 1) as f64 * fraction).round() as usize];
    format!("p50 {:?}, min {:?}, max {:?} ({} runs)", at(0.5), runs[0], runs[runs.len() - 1], runs.len())
}
