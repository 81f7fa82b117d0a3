//! What processing a video allocates is bounded by the video's length, whatever its boxes
//! declare: a global allocator records the largest single request made while `process` runs, for
//! the fixtures, for boxes and tables edited to claim gigabytes, and for seeded mutations.

mod samples;

use huddle_media::processing::{process, MediaType};
use rand::Rng;
use samples::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, noting the largest request made on a thread while it records.
struct Recording;

thread_local! {
    static RECORDING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    if RECORDING.try_with(Cell::get).unwrap_or(false) {
        let _ = LARGEST.try_with(|largest| largest.set(largest.get().max(size)));
    }
}

unsafe impl GlobalAlloc for Recording {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(pointer, layout, new_size) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Recording = Recording;

/// The largest single allocation processing `bytes` makes.
fn largest_allocation(declared: MediaType, bytes: &[u8]) -> usize {
    LARGEST.set(0);
    RECORDING.set(true);
    let answer = process(declared, bytes);
    RECORDING.set(false);
    drop(answer);
    LARGEST.get()
}

/// mp4parse keeps what it reads in structures a few times larger than their bytes in the file
/// (a sample description of at least 8 bytes becomes a `SampleEntry`), plus buffers of its own.
fn bound(input: &[u8]) -> usize {
    let per_byte = (size_of::<mp4parse::SampleEntry>() / 8).max(4);
    per_byte * input.len() + 16 * 1024
}

fn assert_bounded(declared: MediaType, bytes: &[u8], what: &str) {
    let largest = largest_allocation(declared, bytes);
    assert!(largest <= bound(bytes), "{what}: {largest} bytes at once for {} bytes of input", bytes.len());
}

#[test]
fn the_fixtures_allocate_in_proportion_to_their_length() {
    for (declared, name) in [
        (MediaType::Mp4, H264_MP4),
        (MediaType::QuickTime, HEVC_MOV),
        (MediaType::Mp4, AV1_MP4),
        (MediaType::Mp4, AUDIO_ONLY_MP4),
    ] {
        assert_bounded(declared, &fixture(name), name);
    }
}

#[test]
fn boxes_and_tables_claiming_gigabytes_allocate_in_proportion_to_the_file() {
    let file = fixture(H264_MP4);
    // (box, offset of the field from the box's start, value): entry counts after a full box's
    // version and flags, and box sizes.
    let edits: [(&[u8; 4], usize, u32); 9] = [
        (b"stco", 12, 0x3FFF_FFFF),
        (b"stts", 12, 0x3FFF_FFFF),
        (b"stsc", 12, 0x3FFF_FFFF),
        (b"stss", 12, 0x3FFF_FFFF),
        (b"stsz", 16, 0x3FFF_FFFF),
        (b"elst", 12, 0x3FFF_FFFF),
        (b"stsd", 12, 0x00FF_FFFF),
        (b"avcC", 0, 0x7FFF_FFFF),
        (b"tkhd", 0, 0x7FFF_FFFF),
    ];
    for (kind, field, value) in edits {
        let mut edited = file.clone();
        write_u32(&mut edited, box_at(&file, kind) + field, value);
        assert_bounded(MediaType::Mp4, &edited, &String::from_utf8_lossy(kind));
    }
    // In the user data, which mp4parse forgives errors in.
    assert_bounded(MediaType::Mp4, &with_oversized_title(file), "a title");
}

#[test]
fn mutated_videos_allocate_in_proportion_to_their_length() {
    let mut rng = seeded_rng("mutated_videos_allocate_in_proportion_to_their_length");
    let videos = [fixture(H264_MP4), fixture(HEVC_MOV), fixture(AUDIO_ONLY_MP4)];
    for round in 0..300 {
        let mut bytes = videos[round % videos.len()].clone();
        // A 32-bit field somewhere set to what a size or count might be made to say.
        let at = rng.random_range(0..bytes.len() - 4);
        let values = [u32::MAX, 0x7FFF_FFFF, 0x3FFF_FFFF, 0x00FF_FFFF, rng.random()];
        write_u32(&mut bytes, at, values[rng.random_range(0..values.len())]);
        assert_bounded(MediaType::Mp4, &bytes, &format!("round {round}, a field at {at}"));
    }
}
