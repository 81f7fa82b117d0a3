//! `process` on real files: images made here with EXIF (GPS and orientation) written byte by byte,
//! the checked-in video fixtures, and hostile edits of both.

mod samples;

use huddle_media::processing::limits::MAX_ORIGINAL_PIXELS;
use huddle_media::processing::{process, Kind, MediaType, Processed, Rejection, Rendition, VideoCodec};
use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use samples::*;
use std::io::Cursor;

struct ProcessedImage {
    width: u32,
    height: u32,
    original: Rendition,
    thumbnails: Vec<Rendition>,
    blurhash: String,
}

fn processed_image(declared: MediaType, bytes: &[u8]) -> ProcessedImage {
    match process(declared, bytes) {
        Ok(Processed::Image { width, height, original, thumbnails, blurhash }) => {
            ProcessedImage { width, height, original, thumbnails, blurhash }
        }
        other => panic!("expected an image, got {other:?}"),
    }
}

/// Each rendition decodes as the format it says, at the size it says, and carries no EXIF.
fn decoded(rendition: &Rendition) -> DynamicImage {
    let format = match rendition.media_type {
        MediaType::Jpeg => ImageFormat::Jpeg,
        MediaType::Png => ImageFormat::Png,
        other => panic!("a rendition encoded as {other}"),
    };
    let image = image::load_from_memory_with_format(&rendition.bytes, format).unwrap();
    assert_eq!((image.width(), image.height()), (rendition.width, rendition.height));
    image
}

fn assert_no_metadata(rendition: &Rendition) {
    let bytes = &rendition.bytes;
    assert!(!contains(bytes, b"Exif\0\0"), "an EXIF header in a {}", rendition.media_type);
    assert!(!contains(bytes, b"MM\0\x2a"), "a TIFF header in a {}", rendition.media_type);
    assert!(
        !contains(bytes, &rational_bytes(GPS_LATITUDE)),
        "the GPS latitude in a {}",
        rendition.media_type
    );
    assert!(
        !contains(bytes, &rational_bytes(GPS_LONGITUDE)),
        "the GPS longitude in a {}",
        rendition.media_type
    );
    assert!(exif::Reader::new().read_from_container(&mut Cursor::new(bytes)).is_err());
    match rendition.media_type {
        // SOI's followers: JFIF's APP0, quantization and Huffman tables, the frame, the scan; no
        // APP1 (EXIF, XMP), APP2 (ICC) or COM.
        MediaType::Jpeg => {
            let markers = jpeg_markers(bytes);
            assert!(
                markers.iter().all(|marker| [0xE0, 0xDB, 0xC4, 0xC0, 0xDA].contains(marker)),
                "{markers:x?}"
            );
        }
        MediaType::Png => assert_eq!(png_chunk_types(bytes), ["IHDR", "IDAT", "IEND"]),
        other => panic!("a rendition encoded as {other}"),
    }
}

/// The input really carries what the outputs must not.
fn assert_has_gps(bytes: &[u8]) {
    let exif = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)).unwrap();
    assert!(exif.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY).is_some());
    let orientation = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY).unwrap();
    assert_eq!(orientation.value.get_uint(0), Some(6));
}

fn red_and_blue(pixel: &[u8]) -> (u8, u8) {
    (pixel[0], pixel[2])
}

#[test]
fn a_jpeg_comes_out_upright_without_its_exif_with_thumbnails_and_a_blurhash() {
    // Orientation 6: stored turned a quarter to the left, shown turned 90° clockwise.
    let upload = jpeg_with_exif(&red_left_blue_right(800, 400), &exif(6));
    assert_has_gps(&upload);

    let processed = processed_image(MediaType::Jpeg, &upload);

    assert_eq!((processed.width, processed.height), (400, 800));
    assert_eq!(processed.original.media_type, MediaType::Jpeg);
    let original = decoded(&processed.original).into_rgb8();
    assert_eq!(original.dimensions(), (400, 800));
    // The stored left (red) is now the top, the stored right (blue) the bottom.
    let (top_red, top_blue) = red_and_blue(&original.get_pixel(200, 100).0);
    let (bottom_red, bottom_blue) = red_and_blue(&original.get_pixel(200, 700).0);
    assert!(top_red > 180 && top_blue < 60, "top {:?}", original.get_pixel(200, 100));
    assert!(bottom_blue > 180 && bottom_red < 60, "bottom {:?}", original.get_pixel(200, 700));

    let sizes: Vec<(u32, u32)> =
        processed.thumbnails.iter().map(|thumbnail| (thumbnail.width, thumbnail.height)).collect();
    assert_eq!(sizes, [(320, 640), (64, 128)]);
    for rendition in [&processed.original].into_iter().chain(&processed.thumbnails) {
        decoded(rendition);
        assert_no_metadata(rendition);
    }

    // 4×4 components: a size flag, the largest AC value, the DC (4) and 15 ACs (2 each).
    assert_eq!(processed.blurhash.len(), 36);
    let blurred = blurhash::decode(&processed.blurhash, 4, 8, 1.0).unwrap();
    let pixel = |x: usize, y: usize| red_and_blue(&blurred[(y * 4 + x) * 4..][..3]);
    let ((top_red, top_blue), (bottom_red, bottom_blue)) = (pixel(2, 0), pixel(2, 7));
    assert!(top_red > top_blue && bottom_blue > bottom_red, "the blurhash is not of the upright image");
}

#[test]
fn a_transparent_png_stays_a_png_without_its_exif_or_text() {
    let image =
        RgbaImage::from_fn(40, 20, |x, y| Rgba([200, 30, 30, if (x + y) % 3 == 0 { 90 } else { 255 }]));
    let exif_chunk = png_chunk(b"eXIf", &exif(6));
    let text = png_chunk(b"tEXt", b"Comment\0taken at 52.37N 4.90E");
    let upload = png_with_chunks(&DynamicImage::ImageRgba8(image), &[exif_chunk, text]);
    assert_has_gps(&upload);
    assert!(png_chunk_types(&upload).contains(&"tEXt".into()));

    let processed = processed_image(MediaType::Png, &upload);

    assert_eq!((processed.width, processed.height), (20, 40));
    assert_eq!(processed.original.media_type, MediaType::Png);
    let original = decoded(&processed.original).into_rgba8();
    assert!(original.pixels().any(|pixel| pixel[3] == 90), "the transparency is lost");
    assert_no_metadata(&processed.original);
    assert!(!contains(&processed.original.bytes, b"52.37N"));
    // Smaller than both thumbnail sizes: the original serves as them, and the blurhash is its own.
    assert!(processed.thumbnails.is_empty());
    assert!(blurhash::decode(&processed.blurhash, 20, 40, 1.0).is_ok());
}

#[test]
fn an_opaque_png_or_webp_becomes_a_jpeg_alpha_channel_or_not() {
    let opaque_rgba = RgbaImage::from_pixel(300, 200, Rgba([10, 120, 200, 255]));
    let uploads = [
        (MediaType::Png, encoded(&DynamicImage::ImageRgba8(opaque_rgba.clone()), ImageFormat::Png)),
        (MediaType::Png, encoded(&DynamicImage::ImageRgb8(red_left_blue_right(300, 200)), ImageFormat::Png)),
        (MediaType::Webp, encoded(&DynamicImage::ImageRgba8(opaque_rgba), ImageFormat::WebP)),
    ];
    for (declared, upload) in uploads {
        let processed = processed_image(declared, &upload);
        assert_eq!((processed.width, processed.height), (300, 200));
        assert_eq!(processed.original.media_type, MediaType::Jpeg, "{declared}");
        let sizes: Vec<(u32, u32)> =
            processed.thumbnails.iter().map(|thumbnail| (thumbnail.width, thumbnail.height)).collect();
        assert_eq!(sizes, [(128, 85)], "{declared}");
        decoded(&processed.original);
        assert_no_metadata(&processed.original);
    }
}

#[test]
fn a_transparent_webp_becomes_a_png() {
    let image = RgbaImage::from_fn(64, 64, |x, _| Rgba([0, 0, 0, if x < 32 { 0 } else { 255 }]));
    let processed =
        processed_image(MediaType::Webp, &encoded(&DynamicImage::ImageRgba8(image), ImageFormat::WebP));
    assert_eq!(processed.original.media_type, MediaType::Png);
    assert_eq!(decoded(&processed.original).into_rgba8().get_pixel(10, 10)[3], 0);
}

#[test]
fn an_image_over_the_originals_area_is_downscaled_with_its_aspect_ratio() {
    let upload = jpeg(&red_left_blue_right(4000, 2500), 80);
    let processed = processed_image(MediaType::Jpeg, &upload);

    assert_eq!((processed.width, processed.height), (4000, 2500));
    let original = &processed.original;
    assert!(u64::from(original.width) * u64::from(original.height) <= MAX_ORIGINAL_PIXELS);
    assert!(u64::from(original.width + 1) * u64::from(original.height + 1) > MAX_ORIGINAL_PIXELS);
    assert!((f64::from(original.width) / f64::from(original.height) - 1.6).abs() < 0.001);
    decoded(original);
    let sizes: Vec<(u32, u32)> =
        processed.thumbnails.iter().map(|thumbnail| (thumbnail.width, thumbnail.height)).collect();
    assert_eq!(sizes, [(640, 400), (128, 80)]);
}

#[test]
fn decompression_bombs_are_refused_from_their_header() {
    let bomb = png_claiming(100_000, 100_000);
    assert!(bomb.len() < 100);
    assert_eq!(process(MediaType::Png, &bomb), Err(Rejection::TooManyPixels));
    assert_eq!(process(MediaType::Png, &png_claiming(u32::MAX >> 1, 1)), Err(Rejection::TooManyPixels));
    assert_eq!(process(MediaType::Png, &png_claiming(7_000, 6_000)), Err(Rejection::TooManyPixels));

    // A JPEG whose frame header (SOF0: marker, length, precision, then height and width) claims
    // 60,000×60,000.
    let mut jpeg_bomb = jpeg(&red_left_blue_right(16, 16), 80);
    let frame = jpeg_bomb.windows(2).position(|marker| marker == [0xFF, 0xC0]).unwrap();
    write_u16(&mut jpeg_bomb, frame + 5, 60_000);
    write_u16(&mut jpeg_bomb, frame + 7, 60_000);
    assert_eq!(process(MediaType::Jpeg, &jpeg_bomb), Err(Rejection::TooManyPixels));
}

#[test]
fn a_side_over_the_limit_is_refused_even_with_few_pixels() {
    assert_eq!(
        process(MediaType::Png, &png_claiming(20_000, 100)),
        Err(Rejection::TooLargeDimensions { kind: Kind::Image })
    );
    assert_eq!(
        process(MediaType::Png, &png_claiming(100, 16_385)),
        Err(Rejection::TooLargeDimensions { kind: Kind::Image })
    );
}

#[test]
fn bytes_that_are_not_the_declared_type_are_refused() {
    let png = encoded(&DynamicImage::ImageRgb8(red_left_blue_right(8, 8)), ImageFormat::Png);
    let jpeg = jpeg(&red_left_blue_right(8, 8), 80);
    let mismatches = [
        (MediaType::Jpeg, png.clone()),
        (MediaType::Webp, png.clone()),
        (MediaType::Png, jpeg.clone()),
        (MediaType::Png, b"just some text, not an image".to_vec()),
        (MediaType::Jpeg, Vec::new()),
        (MediaType::Mp4, png),
        (MediaType::QuickTime, jpeg),
        (MediaType::Jpeg, fixture(H264_MP4)),
        (MediaType::Mp4, b"<html>not a video</html>".to_vec()),
    ];
    for (declared, bytes) in mismatches {
        assert_eq!(process(declared, &bytes), Err(Rejection::TypeMismatch { declared }), "{declared}");
    }
}

#[test]
fn garbage_after_a_valid_header_is_unreadable() {
    let unreadable = Err(Rejection::Unreadable { kind: Kind::Image });
    let png = encoded(&DynamicImage::ImageRgb8(red_left_blue_right(100, 100)), ImageFormat::Png);
    // Signature and IHDR, then noise.
    let noise: Vec<u8> = (0..500u32).map(|n| (n * 7919 % 251) as u8).collect();
    assert_eq!(process(MediaType::Png, &[&png[..33], &noise].concat()), unreadable);
    assert_eq!(process(MediaType::Png, &png[..png.len() / 2]), unreadable);
    // SOI and JFIF's APP0, then noise.
    let jpeg = jpeg(&red_left_blue_right(100, 100), 80);
    assert_eq!(process(MediaType::Jpeg, &[&jpeg[..20], &noise].concat()), unreadable);
    assert_eq!(
        process(MediaType::Webp, b"RIFF\x20\0\0\0WEBPVP8 \x14\0\0\0garbagegarbagegarbage"),
        unreadable
    );
}

fn processed_video(declared: MediaType, bytes: &[u8]) -> Processed {
    let processed = process(declared, bytes).unwrap();
    assert!(matches!(processed, Processed::Video { .. }), "{processed:?}");
    processed
}

#[test]
fn an_h264_mp4_is_read_for_its_size_duration_and_codec() {
    let expected = Processed::Video {
        media_type: MediaType::Mp4,
        width: 160,
        height: 120,
        duration_ms: 2000,
        codec: VideoCodec::H264,
    };
    assert_eq!(processed_video(MediaType::Mp4, &fixture(H264_MP4)), expected);
    // Declared as QuickTime, it is still the MP4 it is.
    assert_eq!(processed_video(MediaType::QuickTime, &fixture(H264_MP4)), expected);
}

#[test]
fn an_hevc_quicktime_movie_is_accepted_and_shown_as_its_matrix_turns_it() {
    let expected = |width, height| Processed::Video {
        media_type: MediaType::QuickTime,
        width,
        height,
        duration_ms: 1000,
        codec: VideoCodec::Hevc,
    };
    assert_eq!(processed_video(MediaType::QuickTime, &fixture(HEVC_MOV)), expected(160, 90));
    assert_eq!(processed_video(MediaType::Mp4, &fixture(HEVC_MOV)), expected(160, 90));
    assert_eq!(
        processed_video(MediaType::QuickTime, &turned_a_quarter(fixture(HEVC_MOV))),
        expected(90, 160)
    );
}

#[test]
fn codecs_phones_cannot_all_play_are_refused() {
    assert_eq!(process(MediaType::Mp4, &fixture(AV1_MP4)), Err(Rejection::UnsupportedCodec));
    // The same track relabelled Dolby Vision only (its avcC renamed as a Dolby Vision configuration).
    let mut relabelled = fixture(H264_MP4);
    for (from, to) in [(b"avc1", b"dvh1"), (b"avcC", b"dvcC")] {
        let found = box_at(&relabelled, from);
        relabelled[found + 4..found + 8].copy_from_slice(to);
    }
    assert_eq!(process(MediaType::Mp4, &relabelled), Err(Rejection::UnsupportedCodec));
}

#[test]
fn a_file_without_a_video_track_is_refused() {
    assert_eq!(process(MediaType::Mp4, &fixture(AUDIO_ONLY_MP4)), Err(Rejection::NoVideoTrack));
}

#[test]
fn a_video_over_five_minutes_is_refused() {
    assert_eq!(
        process(MediaType::Mp4, &with_media_duration(fixture(H264_MP4), 301)),
        Err(Rejection::TooLong)
    );
    let five_minutes = processed_video(MediaType::Mp4, &with_media_duration(fixture(H264_MP4), 300));
    assert!(matches!(five_minutes, Processed::Video { duration_ms: 300_000, .. }), "{five_minutes:?}");
}

#[test]
fn a_video_over_3840_by_2160_either_way_up_is_refused() {
    let too_large = Err(Rejection::TooLargeDimensions { kind: Kind::Video });
    for (width, height) in [(3841, 2160), (3840, 2161), (2161, 3840), (2160, 3841), (4096, 4096)] {
        assert_eq!(
            process(MediaType::Mp4, &with_coded_size(fixture(H264_MP4), b"avc1", width, height)),
            too_large
        );
    }
    for (width, height) in [(3840, 2160), (2160, 3840)] {
        let accepted =
            processed_video(MediaType::Mp4, &with_coded_size(fixture(H264_MP4), b"avc1", width, height));
        assert!(
            matches!(accepted, Processed::Video { width: w, height: h, .. } if (w, h) == (width.into(), height.into()))
        );
    }
}

#[test]
fn a_truncated_video_is_unreadable_wherever_it_is_cut() {
    let file = fixture(H264_MP4);
    let moov = box_at(&file, b"moov");
    let moov_end = moov + read_u32(&file, moov) as usize;
    let mdat = box_at(&file, b"mdat");
    // Within the ftyp, within the moov, at the moov's end (no media data), within the mdat's
    // header and within its data.
    let cuts =
        [12, 31, 32, moov + 8, moov + 100, (moov + moov_end) / 2, moov_end - 1, moov_end, moov_end + 4];
    let cuts = cuts.into_iter().chain([mdat + 8, (mdat + file.len()) / 2, file.len() - 1]);
    for cut in cuts {
        assert_eq!(
            process(MediaType::Mp4, &file[..cut]),
            Err(Rejection::Unreadable { kind: Kind::Video }),
            "cut at {cut}"
        );
    }
}

#[test]
fn bytes_after_the_last_box_are_unreadable_but_another_whole_box_is_not() {
    let file = fixture(H264_MP4);
    let partial_header = [&file[..], &[0, 0, 0, 16]].concat();
    assert_eq!(process(MediaType::Mp4, &partial_header), Err(Rejection::Unreadable { kind: Kind::Video }));
    let free_box = [&file[..], &8u32.to_be_bytes(), b"free"].concat();
    assert!(process(MediaType::Mp4, &free_box).is_ok());
}

#[test]
fn boxes_claiming_more_than_the_file_holds_are_unreadable() {
    let unreadable = Err(Rejection::Unreadable { kind: Kind::Video });
    let ftyp = &fixture(H264_MP4)[..32];
    let huge_moov = [ftyp, &0xFFFF_FFF0u32.to_be_bytes(), b"moov", &[0; 64]].concat();
    assert_eq!(process(MediaType::Mp4, &huge_moov), unreadable);
    let huge_large_size =
        [ftyp, &1u32.to_be_bytes(), b"moov", &(1u64 << 62).to_be_bytes(), &[0; 64]].concat();
    assert_eq!(process(MediaType::Mp4, &huge_large_size), unreadable);

    // Inside a real moov: a sample table, a decoder configuration and a sample description list
    // declaring far more than they hold.
    let file = fixture(H264_MP4);
    let edits: [(&[u8; 4], usize, u32); 4] = [
        (b"stco", 12, 0x3FFF_FFFF),
        (b"stsz", 16, 0x3FFF_FFFF),
        (b"stsd", 12, 0xFFFF),
        (b"avcC", 0, 0x7FFF_FFFF),
    ];
    for (kind, field, value) in edits {
        let mut edited = file.clone();
        write_u32(&mut edited, box_at(&file, kind) + field, value);
        assert_eq!(process(MediaType::Mp4, &edited), unreadable, "{}", String::from_utf8_lossy(kind));
    }
}
