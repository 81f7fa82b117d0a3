//! What a post, a thread or an entry must be before anything is appended: its text or title, its
//! media (each a ready media of the author's, a thread's and an entry's a ready video, read from
//! its `media#` stream), a reply's audience within its parent's. Every field's problem is
//! reported at once, as a 422.

use super::{Caller, ContentCommand};
use crate::text::{self, MAX_MENTIONS, MAX_TAGS};
use huddle_catalog::graph::Audience;
use huddle_catalog::media::{media_stream, MediaKind, MEDIA_ID_PREFIX};
use huddle_domain::decider::load;
use huddle_http::{is_prefixed_id, ApiError, FieldError};
use huddle_media::media::{Media, MediaFile};

/// At most this many media in one post.
pub const MAX_MEDIA: usize = 10;

/// The problems of `text`: its length and characters, and how many names and tags it holds.
pub(crate) fn text_problems(text: &str) -> Vec<FieldError> {
    let mut problems = Vec::new();
    if let Some(why) = text::refusal(text) {
        problems.push(FieldError::new("text", why));
    } else if text::mentioned_names(text).len() > MAX_MENTIONS {
        problems.push(FieldError::new("text", format!("may mention at most {MAX_MENTIONS} accounts")));
    } else if text::tags(text).len() > MAX_TAGS {
        problems.push(FieldError::new("text", format!("may hold at most {MAX_TAGS} tags")));
    }
    problems
}

/// The problems of a thread's title.
pub(crate) fn title_problems(title: &str) -> Vec<FieldError> {
    text::title_refusal(title).map(|why| FieldError::new("title", why)).into_iter().collect()
}

/// The problems of an entry's text: a post's rules (its `@names` and `#tags` stay text).
pub(crate) fn entry_text_problems(text: &str) -> Vec<FieldError> {
    text::refusal(text).map(|why| FieldError::new("text", why)).into_iter().collect()
}

/// The problems of `media_ids` as sent: how many, their form, repeats (before any read).
pub(crate) fn media_id_problems(media_ids: &[String]) -> Vec<FieldError> {
    if media_ids.len() > MAX_MEDIA {
        return vec![FieldError::new("media_ids", format!("at most {MAX_MEDIA} media"))];
    }
    let mut problems = Vec::new();
    for (at, id) in media_ids.iter().enumerate() {
        if !is_prefixed_id(id, MEDIA_ID_PREFIX) {
            problems.push(FieldError::new(format!("media_ids[{at}]"), "must be a media id such as med_01J…"));
        } else if media_ids[..at].contains(id) {
            problems.push(FieldError::new(format!("media_ids[{at}]"), "is attached already"));
        }
    }
    problems
}

/// Whether a reply's audience may be `audience` under a parent shared with `parent`.
pub(crate) fn audience_problems(audience: Audience, parent: Option<Audience>) -> Vec<FieldError> {
    match parent {
        Some(parent) if !audience.within(parent) => vec![FieldError::new(
            "audience",
            "a reply's audience may be no wider than its parent's (public > followers > acquaintances > friends > close_friends)",
        )],
        _ => vec![],
    }
}

impl ContentCommand {
    /// The problems of media that are not ready media of `caller`'s (their streams read at once).
    pub(crate) async fn media_problems(
        &self,
        media_ids: &[String],
        caller: &Caller,
    ) -> Result<Vec<FieldError>, ApiError> {
        let loads = media_ids.iter().map(|id| load::<MediaFile>(&self.events, media_stream(id)));
        let media = futures::future::try_join_all(loads)
            .await
            .map_err(|e| ApiError::internal(&caller.request_id, &e))?;
        Ok(media
            .iter()
            .enumerate()
            .filter(
                |(_, media)| !matches!(&media.state, Media::Ready { owner, .. } if *owner == caller.account),
            )
            .map(|(at, _)| FieldError::new(format!("media_ids[{at}]"), "must be a ready media of yours"))
            .collect())
    }

    /// The problem of `media_id` (a thread's or an entry's `media_id`) when it is not a ready
    /// video of `caller`'s (its stream read once it is an id).
    pub(crate) async fn video_problems(
        &self,
        media_id: &str,
        caller: &Caller,
    ) -> Result<Vec<FieldError>, ApiError> {
        if !is_prefixed_id(media_id, MEDIA_ID_PREFIX) {
            return Ok(vec![FieldError::new("media_id", "must be a media id such as med_01J…")]);
        }
        let media = load::<MediaFile>(&self.events, media_stream(media_id))
            .await
            .map_err(|e| ApiError::internal(&caller.request_id, &e))?;
        let ready_video = matches!(
            &media.state,
            Media::Ready { owner, kind: MediaKind::Video, .. } if *owner == caller.account
        );
        Ok(if ready_video {
            vec![]
        } else {
            vec![FieldError::new("media_id", "must be a ready video of yours")]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_ids_are_checked_as_sent_before_any_read() {
        let id = |n: u32| format!("med_01J{n:023}");
        assert!(media_id_problems(&(0..10).map(id).collect::<Vec<_>>()).is_empty());
        let eleven: Vec<String> = (0..11).map(id).collect();
        assert_eq!(media_id_problems(&eleven).len(), 1, "one problem however many are sent");
        let problems = media_id_problems(&[id(1), "nope".into(), id(1)]);
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["media_ids[1]", "media_ids[2]"]);
    }

    #[test]
    fn a_reply_is_shared_no_wider_than_its_parent() {
        assert!(audience_problems(Audience::Public, None).is_empty());
        assert!(audience_problems(Audience::Friends, Some(Audience::Followers)).is_empty());
        assert!(audience_problems(Audience::Followers, Some(Audience::Followers)).is_empty());
        assert_eq!(audience_problems(Audience::Public, Some(Audience::Followers)).len(), 1);
        assert_eq!(audience_problems(Audience::Friends, Some(Audience::CloseFriends)).len(), 1);
    }
}
