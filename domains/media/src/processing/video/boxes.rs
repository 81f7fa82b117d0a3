//! A walk over an ISO base media file's boxes before mp4parse reads it, for what mp4parse 0.17
//! does not do:
//!
//! * **Bounding its allocations by the input.** mp4parse reserves memory by what a file declares,
//!   not by what it holds: `read_buf` reserves a box's declared size before reading it, and the
//!   sample tables reserve their declared entry counts. Its reservations are fallible, but a file
//!   of a few KB could still ask for gigabytes. Along every path mp4parse descends, this walk
//!   checks that each box lies within its parent and that each entry count fits in its table, so
//!   what mp4parse reserves is bounded by the input's length. mp4parse is handed only the `moov`
//!   box, with its user data (`udta`: titles, tags, places; nothing Huddle reads, and a part
//!   whose errors mp4parse forgives after reserving) blanked to `free`.
//! * **Refusing truncated files.** The top-level boxes must fill the file exactly, with one `moov`.
//! * **The format of each track's sample entry.** mp4parse 0.17 keeps only the sample entries of
//!   codecs it knows, and it does not know HEVC (its master branch does, unreleased), so the walk
//!   reads the first sample entry's header itself: format, width and height, at the offsets of
//!   ISO/IEC 14496-12's VisualSampleEntry.

use std::ops::Range;

/// The header of a track's first sample entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct SampleEntry {
    /// The entry's box type, which names the codec: `avc1`, `hvc1`, `av01` ...
    pub format: [u8; 4],
    pub width: u16,
    pub height: u16,
}

/// What the walk found in a well-formed file.
pub(super) struct Movie {
    /// The `moov` box as mp4parse is to read it (its `udta` blanked).
    pub moov: Vec<u8>,
    /// The first sample entry of each `trak`, in file order (the order of mp4parse's `Track::id`);
    /// `None` for a track whose handler is not visual or that has no entry.
    pub first_entries: Vec<Option<SampleEntry>>,
}

/// A box that does not fit where it is, a count larger than its table, bytes after the last
/// top-level box, or not exactly one `moov`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Malformed;

pub(super) fn check(file: &[u8]) -> Result<Movie, Malformed> {
    let mut walk = Walk { file, first_entries: Vec::new(), track: Track::default(), user_data: Vec::new() };
    let mut moov = None;
    let mut end = 0;
    for found in Boxes::new(file, 0..file.len()) {
        let found = found?;
        end = found.range.end;
        if &found.kind == b"moov" {
            if moov.is_some() {
                return Err(Malformed);
            }
            walk.descend(&found, 0, Parent::Movie)?;
            moov = Some(found.range);
        }
    }
    // Bytes after the last whole box are a cut inside a box header: mp4parse would stop there and
    // call the file whole.
    let moov = moov.filter(|_| end == file.len()).ok_or(Malformed)?;
    let mut moov_box = file[moov.clone()].to_vec();
    for user_data in walk.user_data {
        moov_box[user_data - moov.start + 4..][..4].copy_from_slice(b"free");
    }
    Ok(Movie { moov: moov_box, first_entries: walk.first_entries })
}

/// `file` with what it tells of where, when and on what it was made blanked, for publishing:
/// every `udta`, `meta` and `uuid` box of the file, of its movie and of its tracks (user data,
/// Apple's metadata keys such as `com.apple.quicktime.location.ISO6709`, XMP) becomes a `free`
/// box of zeros of the same size, so every chunk offset stays right; and the creation and
/// modification times of `mvhd`, `tkhd` and `mdhd` become zero. `file` must have passed [`check`].
pub(super) fn scrubbed(file: &[u8]) -> Result<Vec<u8>, Malformed> {
    let mut out = file.to_vec();
    scrub_children(file, &mut out, 0..file.len(), Level::File)?;
    Ok(out)
}

/// The levels whose metadata [`scrubbed`] blanks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    File,
    Movie,
    Track,
    Media,
}

fn scrub_children(file: &[u8], out: &mut [u8], range: Range<usize>, level: Level) -> Result<(), Malformed> {
    for found in Boxes::new(file, range) {
        let found = found?;
        match (&found.kind, level) {
            (b"udta" | b"meta" | b"uuid", Level::File | Level::Movie | Level::Track) => {
                // The size field stays (4 bytes, or 16 with a 64-bit size); the rest is zeros.
                let sized = if read_u32(file, found.range.start)? == 1 { 16 } else { 8 };
                out[found.range.start + 4..found.range.start + 8].copy_from_slice(b"free");
                out[found.range.start + 8..found.range.end].fill(0);
                if sized == 16 {
                    out[found.range.start + 8..found.range.start + 16]
                        .copy_from_slice(&file[found.range.start + 8..found.range.start + 16]);
                }
            }
            (b"moov", Level::File) => scrub_children(file, out, found.payload.clone(), Level::Movie)?,
            (b"trak", Level::Movie) => scrub_children(file, out, found.payload.clone(), Level::Track)?,
            (b"mdia", Level::Track) => scrub_children(file, out, found.payload.clone(), Level::Media)?,
            (b"mvhd", Level::Movie) | (b"tkhd", Level::Track) | (b"mdhd", Level::Media) => {
                // Version 0: 32-bit creation and modification times after version and flags;
                // version 1: 64-bit ones.
                let times = if file.get(found.payload.start) == Some(&1) { 16 } else { 8 };
                let at = found.payload.start + 4;
                out.get_mut(at..at + times).ok_or(Malformed)?.fill(0);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Where a box sits, as far as mp4parse reads it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parent {
    Movie,
    Track,
    Edits,
    Media,
    MediaInformation,
    SampleTable,
    SampleDescriptions,
    SampleEntry,
    ProtectionScheme,
    Other,
}

/// The handler (`hdlr`) of a track, which says how mp4parse reads its sample entries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Handler {
    /// `vide`, `pict`, `auxv`: visual sample entries.
    Visual,
    /// `soun`: audio sample entries.
    Sound,
    Other,
}

#[derive(Default)]
struct Track {
    handler: Option<Handler>,
    first_entry: Option<SampleEntry>,
}

struct Walk<'a> {
    file: &'a [u8],
    first_entries: Vec<Option<SampleEntry>>,
    /// The track being walked.
    track: Track,
    /// Where each `udta` of the `moov` starts in the file.
    user_data: Vec<usize>,
}

impl Walk<'_> {
    fn visit(&mut self, found: &Found, parent: Parent) -> Result<(), Malformed> {
        let payload = &self.file[found.payload.clone()];
        match (&found.kind, parent) {
            (b"udta", Parent::Movie) => self.user_data.push(found.range.start),
            (b"trak", Parent::Movie) => {
                self.track = Track::default();
                self.descend(found, 0, Parent::Track)?;
                self.first_entries.push(self.track.first_entry);
            }
            (b"mvex", Parent::Movie) | (b"tref", Parent::Track) => self.descend(found, 0, Parent::Other)?,
            (b"edts", Parent::Track) => self.descend(found, 0, Parent::Edits)?,
            (b"mdia", Parent::Track) => self.descend(found, 0, Parent::Media)?,
            (b"hdlr", Parent::Media) => {
                // Version and flags (4), pre_defined (4), then the handler type.
                self.track.handler = Some(match payload.get(8..12).ok_or(Malformed)? {
                    b"vide" | b"pict" | b"auxv" => Handler::Visual,
                    b"soun" => Handler::Sound,
                    _ => Handler::Other,
                });
            }
            (b"minf", Parent::Media) => self.descend(found, 0, Parent::MediaInformation)?,
            (b"stbl", Parent::MediaInformation) => self.descend(found, 0, Parent::SampleTable)?,
            (b"stsd", Parent::SampleTable) => {
                // Version and flags (4), the entry count (4), then the entries.
                let declared = read_u32(payload, 4)?;
                if declared as usize > self.children(found, 8, Parent::SampleDescriptions)? {
                    return Err(Malformed);
                }
            }
            (format, Parent::SampleDescriptions) => self.sample_entry(found, *format, payload)?,
            (b"sinf", Parent::SampleEntry) => self.descend(found, 0, Parent::ProtectionScheme)?,
            (b"wave", Parent::SampleEntry) | (b"schi", Parent::ProtectionScheme) => {
                self.descend(found, 0, Parent::Other)?
            }
            (b"elst", Parent::Edits) => {
                let entry_bytes = if payload.first() == Some(&1) { 20 } else { 12 };
                check_count(payload, 4, entry_bytes)?;
            }
            (b"stts" | b"co64", Parent::SampleTable) => check_count(payload, 4, 8)?,
            (b"stsc", Parent::SampleTable) => check_count(payload, 4, 12)?,
            (b"stco" | b"stss", Parent::SampleTable) => check_count(payload, 4, 4)?,
            // Sizes are listed only when they differ (a sample_size of 0).
            (b"stsz", Parent::SampleTable) if read_u32(payload, 4)? == 0 => check_count(payload, 8, 4)?,
            _ => {}
        }
        Ok(())
    }

    fn sample_entry(&mut self, found: &Found, format: [u8; 4], payload: &[u8]) -> Result<(), Malformed> {
        // Every sample entry: reserved (6), data reference index (2), then what its kind holds.
        let children_at = match self.track.handler {
            Some(Handler::Visual) => {
                // pre_defined and reserved (16), width, height, then 50 bytes more.
                let header =
                    SampleEntry { format, width: read_u16(payload, 24)?, height: read_u16(payload, 26)? };
                self.track.first_entry.get_or_insert(header);
                78
            }
            // QuickTime's sound description versions 1 and 2 add 16 and 36 bytes.
            Some(Handler::Sound) => match read_u16(payload, 8)? {
                0 => 28,
                1 => 44,
                2 => 64,
                _ => return Ok(()),
            },
            // mp4parse does not read the entries of other tracks.
            Some(Handler::Other) | None => return Ok(()),
        };
        self.descend(found, children_at, Parent::SampleEntry)
    }

    fn descend(&mut self, found: &Found, offset: usize, parent: Parent) -> Result<(), Malformed> {
        self.children(found, offset, parent).map(drop)
    }

    /// Visits the boxes laid end to end in `found`'s payload from `offset`, and says how many.
    fn children(&mut self, found: &Found, offset: usize, parent: Parent) -> Result<usize, Malformed> {
        let start = found.payload.start + offset;
        if start > found.payload.end {
            return Err(Malformed);
        }
        let mut count = 0;
        for child in Boxes::new(self.file, start..found.payload.end) {
            self.visit(&child?, parent)?;
            count += 1;
        }
        Ok(count)
    }
}

/// A sample table's declared entry count (at `count_at` in the payload, entries right after it)
/// must fit in the table. (`ctts` mp4parse checks itself; `stsd`'s entries, boxes, are counted as
/// the walk visits them.)
fn check_count(payload: &[u8], count_at: usize, entry_bytes: u64) -> Result<(), Malformed> {
    let declared = u64::from(read_u32(payload, count_at)?);
    let room = (payload.len() - count_at - 4) as u64;
    if declared * entry_bytes > room {
        return Err(Malformed);
    }
    Ok(())
}

/// A box: its type, the bytes it spans and those of its payload, as ranges of the file.
struct Found {
    kind: [u8; 4],
    range: Range<usize>,
    payload: Range<usize>,
}

/// The boxes laid end to end in a range of the file, each checked to fit in it. Fewer bytes left
/// than a header are the end, as mp4parse reads them (QuickTime ends some lists with zeros).
struct Boxes<'a> {
    file: &'a [u8],
    at: usize,
    end: usize,
}

impl<'a> Boxes<'a> {
    fn new(file: &'a [u8], range: Range<usize>) -> Self {
        Boxes { file, at: range.start, end: range.end }
    }

    fn header(&self) -> Option<Result<Found, Malformed>> {
        let bytes = &self.file[self.at..self.end];
        let declared = read_u32(bytes, 0).ok()?;
        let kind: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
        let (size, mut header) = match declared {
            // To the end of the enclosing range (mp4parse allows it for `mdat` only).
            0 => (bytes.len() as u64, 8),
            1 => (read_u64(bytes, 8).ok()?, 16),
            size => (u64::from(size), 8),
        };
        if &kind == b"uuid" {
            header += 16;
        }
        if size < header as u64 || size > bytes.len() as u64 {
            return Some(Err(Malformed));
        }
        let end = self.at + size as usize;
        Some(Ok(Found { kind, range: self.at..end, payload: self.at + header..end }))
    }
}

impl Iterator for Boxes<'_> {
    type Item = Result<Found, Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        let found = self.header()?;
        // After a malformed box there is nothing more to read.
        self.at = found.as_ref().map_or(self.end, |found| found.range.end);
        Some(found)
    }
}

fn read_u16(bytes: &[u8], at: usize) -> Result<u16, Malformed> {
    let field = bytes.get(at..at + 2).ok_or(Malformed)?;
    Ok(u16::from_be_bytes([field[0], field[1]]))
}

fn read_u32(bytes: &[u8], at: usize) -> Result<u32, Malformed> {
    let field = bytes.get(at..at + 4).ok_or(Malformed)?;
    Ok(u32::from_be_bytes([field[0], field[1], field[2], field[3]]))
}

fn read_u64(bytes: &[u8], at: usize) -> Result<u64, Malformed> {
    let field = bytes.get(at..at + 8).ok_or(Malformed)?;
    Ok(u64::from_be_bytes([field[0], field[1], field[2], field[3], field[4], field[5], field[6], field[7]]))
}
