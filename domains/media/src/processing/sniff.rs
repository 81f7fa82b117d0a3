//! What a file really is, from its first bytes, whatever its name or declared type says.

use super::MediaType;

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Major brands of an ISO base media file (`ftyp` box) that are MP4 video. Other ISO brands are
/// not videos Huddle plays: `heic`, `mif1` and `avif` are still images, `M4A ` is audio, `3gp*`
/// carry phone codecs of the 2000s.
const MP4_BRANDS: [&[u8; 4]; 13] = [
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash",
    b"MSNV", b"XAVC",
];
/// The major brand of Apple's QuickTime files (`.mov`, what iPhones record).
const QUICKTIME_BRAND: &[u8; 4] = b"qt  ";

/// The media type the bytes are, from their magic numbers; `None` for anything else.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(JPEG_MAGIC) {
        return Some(MediaType::Jpeg);
    }
    if bytes.starts_with(PNG_MAGIC) {
        return Some(MediaType::Png);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some(MediaType::Webp);
    }
    // An ISO base media file starts with its `ftyp` box: size (4), "ftyp", major brand (4).
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        if brand == QUICKTIME_BRAND {
            return Some(MediaType::QuickTime);
        }
        if MP4_BRANDS.iter().any(|mp4| brand == *mp4) {
            return Some(MediaType::Mp4);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(brand: &[u8; 4]) -> Vec<u8> {
        let mut bytes = vec![0, 0, 0, 20];
        bytes.extend_from_slice(b"ftyp");
        bytes.extend_from_slice(brand);
        bytes.extend_from_slice(&[0, 0, 2, 0]);
        bytes.extend_from_slice(brand);
        bytes
    }

    #[test]
    fn images_are_known_by_their_magic_numbers() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\x00\x10JFIF\0"), Some(MediaType::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"), Some(MediaType::Png));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(MediaType::Webp));
    }

    #[test]
    fn the_ftyp_brand_tells_quicktime_from_mp4() {
        assert_eq!(sniff(&ftyp(b"qt  ")), Some(MediaType::QuickTime));
        for brand in [b"isom", b"mp41", b"mp42", b"avc1", b"iso5", b"M4V "] {
            assert_eq!(sniff(&ftyp(brand)), Some(MediaType::Mp4), "{brand:?}");
        }
    }

    #[test]
    fn iso_files_that_are_not_video_are_nothing() {
        for brand in [b"heic", b"mif1", b"avif", b"M4A ", b"3gp4", b"crx "] {
            assert_eq!(sniff(&ftyp(brand)), None, "{brand:?}");
        }
    }

    #[test]
    fn anything_else_or_too_short_is_nothing() {
        for bytes in
            [&b""[..], b"\xFF\xD8", b"\x89PNG\r\n\x1a", b"RIFF\0\0\0\0WAVE", b"\0\0\0\x14ftyp", b"GIF89a"]
        {
            assert_eq!(sniff(bytes), None, "{bytes:?}");
        }
        assert_eq!(sniff(b"hello, this is text"), None);
    }
}
