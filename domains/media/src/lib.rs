//! The media domain: uploaded images and videos, checked and processed.

pub mod processing;
