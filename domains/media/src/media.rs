//! One uploaded file as a decider over its `media#` stream: requested by its owner, uploaded
//! (processing began), then ready or rejected, for good. A redelivered upload notification
//! finds the file already processed and appends nothing; a poster goes on a ready video only,
//! by its owner.

use huddle_catalog::media::{MediaEvent, MediaKind};
use huddle_domain::decider::Decider;
use serde::{Deserialize, Serialize};

/// What the stream's events say of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Media {
    #[default]
    Unknown,
    /// Asked for; the upload has not arrived (or processing has not begun).
    Requested(Requested),
    /// The upload arrived and is being processed.
    Processing(Requested),
    Ready {
        owner: String,
        kind: MediaKind,
        poster_id: Option<String>,
    },
    Rejected {
        owner: String,
    },
}

/// What the owner declared when asking to upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requested {
    pub owner: String,
    pub kind: MediaKind,
    pub content_type: String,
    pub size_bytes: u64,
}

impl Media {
    /// Whose file it is; `None` before it was asked for.
    pub fn owner(&self) -> Option<&str> {
        match self {
            Media::Unknown => None,
            Media::Requested(requested) | Media::Processing(requested) => Some(&requested.owner),
            Media::Ready { owner, .. } | Media::Rejected { owner } => Some(owner),
        }
    }

    /// What the owner declared, while the file waits for processing or is being processed.
    pub fn pending(&self) -> Option<&Requested> {
        match self {
            Media::Requested(requested) | Media::Processing(requested) => Some(requested),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaCommand {
    Request(Requested),
    /// The upload arrived: processing begins.
    BeginProcessing,
    /// Processing ended: `MediaProcessed` or `MediaRejected`.
    Finish(MediaEvent),
    /// `by` puts the ready image `poster_id` (checked by the caller to be `by`'s and ready)
    /// before this video.
    AttachPoster {
        by: String,
        poster_id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("that media id is taken")]
    AlreadyRequested,
    /// Unknown, or another account's: the two look the same to the caller.
    #[error("no such media")]
    NotFound,
    #[error("only a video takes a poster")]
    NotAVideo,
    #[error("the video is not ready yet")]
    NotReady,
    #[error("processing ends with MediaProcessed or MediaRejected")]
    NotAnOutcome,
}

pub struct MediaFile;

impl Decider for MediaFile {
    type State = Media;
    type Command = MediaCommand;
    type Event = MediaEvent;
    type Error = MediaError;

    fn decide(media: &Media, command: MediaCommand) -> Result<Vec<MediaEvent>, MediaError> {
        match command {
            MediaCommand::Request(requested) => match media {
                Media::Unknown => Ok(vec![MediaEvent::MediaRequested {
                    owner: requested.owner,
                    kind: requested.kind,
                    content_type: requested.content_type,
                    size_bytes: requested.size_bytes,
                }]),
                _ => Err(MediaError::AlreadyRequested),
            },
            MediaCommand::BeginProcessing => match media {
                Media::Unknown => Err(MediaError::NotFound),
                Media::Requested(_) => Ok(vec![MediaEvent::MediaUploaded]),
                // Begun already, or over: a redelivery.
                _ => Ok(vec![]),
            },
            MediaCommand::Finish(outcome) => {
                if !matches!(outcome, MediaEvent::MediaProcessed { .. } | MediaEvent::MediaRejected { .. }) {
                    return Err(MediaError::NotAnOutcome);
                }
                match media {
                    Media::Unknown => Err(MediaError::NotFound),
                    Media::Requested(_) | Media::Processing(_) => Ok(vec![outcome]),
                    // Processed already: what was decided stays.
                    Media::Ready { .. } | Media::Rejected { .. } => Ok(vec![]),
                }
            }
            MediaCommand::AttachPoster { by, poster_id } => {
                if media.owner() != Some(by.as_str()) {
                    return Err(MediaError::NotFound);
                }
                match media {
                    Media::Ready { kind: MediaKind::Video, poster_id: current, .. } => {
                        Ok(if current.as_deref() == Some(poster_id.as_str()) {
                            vec![]
                        } else {
                            vec![MediaEvent::PosterAttached { poster_id }]
                        })
                    }
                    Media::Ready { .. } | Media::Rejected { .. } => Err(MediaError::NotAVideo),
                    Media::Requested(requested) | Media::Processing(requested) => {
                        Err(if requested.kind == MediaKind::Video {
                            MediaError::NotReady
                        } else {
                            MediaError::NotAVideo
                        })
                    }
                    Media::Unknown => Err(MediaError::NotFound),
                }
            }
        }
    }

    fn evolve(media: Media, event: &MediaEvent) -> Media {
        match (media, event) {
            (Media::Unknown, MediaEvent::MediaRequested { owner, kind, content_type, size_bytes }) => {
                Media::Requested(Requested {
                    owner: owner.clone(),
                    kind: *kind,
                    content_type: content_type.clone(),
                    size_bytes: *size_bytes,
                })
            }
            (Media::Requested(requested), MediaEvent::MediaUploaded) => Media::Processing(requested),
            (
                Media::Requested(requested) | Media::Processing(requested),
                MediaEvent::MediaProcessed { .. },
            ) => Media::Ready { owner: requested.owner, kind: requested.kind, poster_id: None },
            (
                Media::Requested(requested) | Media::Processing(requested),
                MediaEvent::MediaRejected { .. },
            ) => Media::Rejected { owner: requested.owner },
            (Media::Ready { owner, kind, .. }, MediaEvent::PosterAttached { poster_id }) => {
                Media::Ready { owner, kind, poster_id: Some(poster_id.clone()) }
            }
            // decide never appends anything else.
            (media, _) => media,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_catalog::media::Rendition;
    use huddle_domain::decider::testing::given;

    fn requested(kind: MediaKind) -> Requested {
        let content_type = if kind == MediaKind::Video { "video/mp4" } else { "image/png" };
        Requested { owner: "acc_ana".into(), kind, content_type: content_type.into(), size_bytes: 1234 }
    }

    fn requested_event(kind: MediaKind) -> MediaEvent {
        let Requested { owner, kind, content_type, size_bytes } = requested(kind);
        MediaEvent::MediaRequested { owner, kind, content_type, size_bytes }
    }

    fn processed() -> MediaEvent {
        let original = Rendition {
            key: "media/acc_ana/med_1/original.mp4".into(),
            content_type: "video/mp4".into(),
            width: 160,
            height: 120,
        };
        MediaEvent::MediaProcessed {
            width: 160,
            height: 120,
            duration_ms: Some(2000),
            codec: Some("h264".into()),
            blurhash: None,
            original,
            thumbnails: vec![],
        }
    }

    fn rejected() -> MediaEvent {
        MediaEvent::MediaRejected {
            code: "unreadable".into(),
            reason: "The file cannot be read as a video.".into(),
        }
    }

    fn poster(id: &str) -> MediaCommand {
        MediaCommand::AttachPoster { by: "acc_ana".into(), poster_id: id.into() }
    }

    #[test]
    fn a_file_is_requested_once() {
        given::<MediaFile>([])
            .when(MediaCommand::Request(requested(MediaKind::Image)))
            .then([requested_event(MediaKind::Image)]);
        given::<MediaFile>([requested_event(MediaKind::Image)])
            .when(MediaCommand::Request(requested(MediaKind::Image)))
            .then_error(MediaError::AlreadyRequested);
    }

    #[test]
    fn processing_begins_and_ends_once_whatever_the_redeliveries() {
        let video = requested_event(MediaKind::Video);
        given::<MediaFile>([]).when(MediaCommand::BeginProcessing).then_error(MediaError::NotFound);
        given::<MediaFile>([video.clone()])
            .when(MediaCommand::BeginProcessing)
            .then([MediaEvent::MediaUploaded]);
        given::<MediaFile>([video.clone(), MediaEvent::MediaUploaded])
            .when(MediaCommand::BeginProcessing)
            .then([]);
        given::<MediaFile>([video.clone(), MediaEvent::MediaUploaded])
            .when(MediaCommand::Finish(processed()))
            .then([processed()]);
        // A crash between the two appends: processing ends from requested too.
        given::<MediaFile>([video.clone()]).when(MediaCommand::Finish(rejected())).then([rejected()]);
        for done in [processed(), rejected()] {
            let history = [video.clone(), MediaEvent::MediaUploaded, done];
            given::<MediaFile>(history.clone()).when(MediaCommand::Finish(rejected())).then([]);
            given::<MediaFile>(history.clone()).when(MediaCommand::Finish(processed())).then([]);
            given::<MediaFile>(history).when(MediaCommand::BeginProcessing).then([]);
        }
        given::<MediaFile>([video])
            .when(MediaCommand::Finish(MediaEvent::MediaUploaded))
            .then_error(MediaError::NotAnOutcome);
    }

    #[test]
    fn a_poster_goes_on_a_ready_video_of_its_owner_only() {
        let ready_video = [requested_event(MediaKind::Video), MediaEvent::MediaUploaded, processed()];
        given::<MediaFile>(ready_video.clone())
            .when(poster("med_p"))
            .then([MediaEvent::PosterAttached { poster_id: "med_p".into() }]);
        let with_poster =
            [&ready_video[..], &[MediaEvent::PosterAttached { poster_id: "med_p".into() }]].concat();
        given::<MediaFile>(with_poster.clone()).when(poster("med_p")).then([]);
        given::<MediaFile>(with_poster.clone())
            .when(poster("med_q"))
            .then([MediaEvent::PosterAttached { poster_id: "med_q".into() }]);
        assert_eq!(
            given::<MediaFile>(with_poster).state(),
            &Media::Ready {
                owner: "acc_ana".into(),
                kind: MediaKind::Video,
                poster_id: Some("med_p".into())
            }
        );

        let someone_else = MediaCommand::AttachPoster { by: "acc_bob".into(), poster_id: "med_p".into() };
        given::<MediaFile>(ready_video).when(someone_else).then_error(MediaError::NotFound);
        given::<MediaFile>([]).when(poster("med_p")).then_error(MediaError::NotFound);
        given::<MediaFile>([requested_event(MediaKind::Video)])
            .when(poster("med_p"))
            .then_error(MediaError::NotReady);
        let image = [requested_event(MediaKind::Image), MediaEvent::MediaUploaded, processed()];
        given::<MediaFile>(image).when(poster("med_p")).then_error(MediaError::NotAVideo);
        given::<MediaFile>([requested_event(MediaKind::Image)])
            .when(poster("med_p"))
            .then_error(MediaError::NotAVideo);
        let refused = [requested_event(MediaKind::Video), rejected()];
        given::<MediaFile>(refused).when(poster("med_p")).then_error(MediaError::NotAVideo);
    }

    #[test]
    fn the_state_knows_the_owner_and_what_waits() {
        let waiting = given::<MediaFile>([requested_event(MediaKind::Image), MediaEvent::MediaUploaded]);
        assert_eq!(waiting.state().owner(), Some("acc_ana"));
        assert_eq!(waiting.state().pending(), Some(&requested(MediaKind::Image)));
        let done = given::<MediaFile>([requested_event(MediaKind::Image), rejected()]);
        assert_eq!((done.state().owner(), done.state().pending()), (Some("acc_ana"), None));
        assert_eq!(Media::Unknown.owner(), None);
    }
}
