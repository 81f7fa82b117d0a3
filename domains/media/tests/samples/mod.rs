//! What the tests process: the checked-in video fixtures, images made here with EXIF written byte
//! by byte, and edits of both at the boxes and chunks they name.
#![allow(dead_code)] // Each test binary uses its own part.

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::Cursor;

/// A generator for a randomized test, seeded as the workspace's are: from `HUDDLE_TEST_SEED` when
/// set, at random otherwise, and printed so that a failure can be rerun.
pub fn seeded_rng(test: &str) -> StdRng {
    let seed = match std::env::var("HUDDLE_TEST_SEED") {
        Ok(value) => value.parse().unwrap_or_else(|_| panic!("HUDDLE_TEST_SEED={value:?} is not a seed")),
        Err(_) => rand::random(),
    };
    println!("{test}: seed {seed}; rerun with HUDDLE_TEST_SEED={seed}");
    StdRng::seed_from_u64(seed)
}

pub const H264_MP4: &str = "h264-160x120-2s.mp4";
pub const HEVC_MOV: &str = "hevc-160x90-1s.mov";
pub const AV1_MP4: &str = "av1-64x64-1s.mp4";
pub const AUDIO_ONLY_MP4: &str = "audio-only.mp4";

/// A checked-in fixture of `domains/media/tests/fixtures`, found from the workspace root, since
/// these samples are compiled into `tests/media` too.
pub fn fixture(name: &str) -> Vec<u8> {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.ancestors().find(|dir| dir.join("Cargo.lock").exists()).unwrap_or(manifest);
    let path = root.join("domains/media/tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// 52° 22' 12.34" N, 4° 53' 56.78" E, as the EXIF GPS IFD stores them (three rationals each).
pub const GPS_LATITUDE: [(u32, u32); 3] = [(52, 1), (22, 1), (1234, 100)];
pub const GPS_LONGITUDE: [(u32, u32); 3] = [(4, 1), (53, 1), (5678, 100)];

/// The bytes a GPS position takes in the (big-endian) EXIF block, to look for in outputs.
pub fn rational_bytes(rationals: [(u32, u32); 3]) -> Vec<u8> {
    rationals
        .iter()
        .flat_map(|(numerator, denominator)| [numerator.to_be_bytes(), denominator.to_be_bytes()])
        .flatten()
        .collect()
}

/// An EXIF block (a big-endian TIFF structure): IFD0 with an Orientation and a pointer to a GPS
/// IFD holding latitude and longitude with their references.
pub fn exif(orientation: u16) -> Vec<u8> {
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const ASCII: u16 = 2;
    const RATIONAL: u16 = 5;
    // Offsets from the TIFF header: IFD0 at 8 (2 entries), the GPS IFD after it (4 entries), then
    // the two rational triples.
    let gps_ifd = 8 + 2 + 2 * 12 + 4;
    let latitude_at = gps_ifd + 2 + 4 * 12 + 4;
    let longitude_at = latitude_at + 24;

    let mut tiff = b"MM\0\x2a".to_vec();
    tiff.extend_from_slice(&8u32.to_be_bytes());
    let ifd = |tiff: &mut Vec<u8>, entries: &[(u16, u16, u32, [u8; 4])]| {
        tiff.extend_from_slice(&(entries.len() as u16).to_be_bytes());
        for (tag, kind, count, value) in entries {
            tiff.extend_from_slice(&tag.to_be_bytes());
            tiff.extend_from_slice(&kind.to_be_bytes());
            tiff.extend_from_slice(&count.to_be_bytes());
            tiff.extend_from_slice(value);
        }
        tiff.extend_from_slice(&0u32.to_be_bytes());
    };
    let [high, low] = orientation.to_be_bytes();
    ifd(
        &mut tiff,
        &[(0x0112, SHORT, 1, [high, low, 0, 0]), (0x8825, LONG, 1, (gps_ifd as u32).to_be_bytes())],
    );
    ifd(
        &mut tiff,
        &[
            (0x0001, ASCII, 2, *b"N\0\0\0"),
            (0x0002, RATIONAL, 3, (latitude_at as u32).to_be_bytes()),
            (0x0003, ASCII, 2, *b"E\0\0\0"),
            (0x0004, RATIONAL, 3, (longitude_at as u32).to_be_bytes()),
        ],
    );
    assert_eq!(tiff.len(), latitude_at);
    tiff.extend(rational_bytes(GPS_LATITUDE));
    tiff.extend(rational_bytes(GPS_LONGITUDE));
    tiff
}

/// Left half red, right half blue: which way it was turned shows.
/// A photo-like JPEG that compresses as badly as a sensor's noise does: a gradient under strong
/// per-pixel noise, at quality 92 (4000×3000 makes about what a phone's 12 MP camera does).
pub fn noisy_photo(width: u32, height: u32) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(12);
    let image = RgbImage::from_fn(width, height, |x, y| {
        let base = [(x * 255 / width) as i32, (y * 255 / height) as i32, 128];
        Rgb(base.map(|channel| (channel + rng.random_range(-48..=48)).clamp(0, 255) as u8))
    });
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 92).encode_image(&image).unwrap();
    bytes
}

pub fn red_left_blue_right(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(
        width,
        height,
        |x, _| if x < width / 2 { Rgb([220, 20, 20]) } else { Rgb([20, 20, 220]) },
    )
}

pub fn jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality).encode_image(image).unwrap();
    bytes
}

/// The JPEG with an APP1 EXIF segment right after its SOI marker.
pub fn jpeg_with_exif(image: &RgbImage, exif: &[u8]) -> Vec<u8> {
    let encoded = jpeg(image, 95);
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&((2 + 6 + exif.len()) as u16).to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(exif);
    [&encoded[..2], &segment, &encoded[2..]].concat()
}

pub fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let crc = crc32fast::hash(&chunk[4..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    chunk
}

/// The PNG with `chunks` right after its IHDR (signature 8 bytes, IHDR 25).
pub fn png_with_chunks(image: &DynamicImage, chunks: &[Vec<u8>]) -> Vec<u8> {
    let encoded = encoded(image, ImageFormat::Png);
    [&encoded[..33], &chunks.concat(), &encoded[33..]].concat()
}

/// A PNG whose IHDR claims `width`×`height` RGBA, with a few bytes of image data: what a
/// decompression bomb's header looks like.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    // An empty zlib stream.
    let data = png_chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    [&b"\x89PNG\r\n\x1a\n"[..], &png_chunk(b"IHDR", &header), &data, &png_chunk(b"IEND", b"")].concat()
}

/// The chunk types of a PNG, in order.
pub fn png_chunk_types(png: &[u8]) -> Vec<String> {
    let mut types = Vec::new();
    let mut at = 8;
    while at + 8 <= png.len() {
        let length = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        types.push(String::from_utf8_lossy(&png[at + 4..at + 8]).into_owned());
        at += 12 + length;
    }
    types
}

/// The marker of each JPEG segment before the image data (SOS).
pub fn jpeg_markers(jpeg: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let marker = jpeg[at + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        at += 2 + u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]) as usize;
    }
    markers
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// Where the one box of type `kind` starts (its size field); panics unless there is exactly one.
/// A match counts when the four bytes before it are a size that fits in the file (in `ftyp`,
/// brands precede brands).
pub fn box_at(file: &[u8], kind: &[u8; 4]) -> usize {
    let fits =
        |at: usize| at >= 4 && (8..=file.len() - (at - 4)).contains(&(read_u32(file, at - 4) as usize));
    let found: Vec<usize> = file
        .windows(4)
        .enumerate()
        .filter(|(at, window)| window == kind && fits(*at))
        .map(|(at, _)| at - 4)
        .collect();
    assert_eq!(found.len(), 1, "{} boxes of type {:?}", found.len(), String::from_utf8_lossy(kind));
    found[0]
}

pub fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
}

pub fn write_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

pub fn write_u16(bytes: &mut [u8], at: usize, value: u16) {
    bytes[at..at + 2].copy_from_slice(&value.to_be_bytes());
}

/// The fixture with its (version 0) `mdhd` declaring `seconds` of media.
pub fn with_media_duration(mut file: Vec<u8>, seconds: u32) -> Vec<u8> {
    // Size, type, version and flags, creation and modification times, then timescale and duration.
    let mdhd = box_at(&file, b"mdhd");
    let timescale = read_u32(&file, mdhd + 20);
    write_u32(&mut file, mdhd + 24, timescale * seconds);
    file
}

/// The fixture with its one visual sample entry (`format`) declaring `width`×`height`.
pub fn with_coded_size(mut file: Vec<u8>, format: &[u8; 4], width: u16, height: u16) -> Vec<u8> {
    // Box header (8), reserved (6), data reference index (2), pre_defined and reserved (16).
    let entry = box_at(&file, format);
    write_u16(&mut file, entry + 32, width);
    write_u16(&mut file, entry + 34, height);
    file
}

/// The fixture with its one (version 0) `tkhd` matrix turning the picture 90°.
pub fn turned_a_quarter(mut file: Vec<u8>) -> Vec<u8> {
    // Box header (8), then version and flags, creation, modification, track id, reserved,
    // duration (4 each), reserved (8), layer, group, volume, reserved (2 each): the matrix.
    let matrix = box_at(&file, b"tkhd") + 8 + 40;
    let one = 0x0001_0000u32;
    let values = [0, one, 0, one.wrapping_neg(), 0, 0, 0, 0, 0x4000_0000];
    for (index, value) in values.into_iter().enumerate() {
        write_u32(&mut file, matrix + 4 * index, value);
    }
    file
}

/// The fixture with its user data's `meta` (a full box) holding, in place of what it held, one
/// title item whose `data` box declares 2 GB: what a metadata reader reserves before reading.
pub fn with_oversized_title(mut file: Vec<u8>) -> Vec<u8> {
    let meta = box_at(&file, b"meta");
    let meta_end = meta + read_u32(&file, meta) as usize;
    // Box header (8) and version and flags (4), then the item list.
    let list = meta + 12;
    let item = list + 8;
    let data = item + 8;
    assert!(data + 8 <= meta_end, "no room for a title in the user data");
    write_u32(&mut file, list, (meta_end - list) as u32);
    file[list + 4..list + 8].copy_from_slice(b"ilst");
    write_u32(&mut file, item, (meta_end - item) as u32);
    file[item + 4..item + 8].copy_from_slice(b"\xA9nam");
    write_u32(&mut file, data, 0x7FFF_FFFF);
    file[data + 4..data + 8].copy_from_slice(b"data");
    file[data + 8..meta_end].fill(0);
    file
}
