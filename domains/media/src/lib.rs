//! The media domain: uploaded images and videos, checked and processed. `media.rs` is the
//! decider of one file's stream; `processing/` is what the uploads role (`uploads.rs`) makes of its bytes.

pub mod media;
pub mod processing;
pub mod uploads;
