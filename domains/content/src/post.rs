//! One post as a decider over its `post#` stream: created once by its author, edited and deleted
//! by its author only, and gone for good once deleted (its id is never reused). Whoever else asks
//! gets the same answer as for a post that does not exist.

use huddle_catalog::content::PostEvent;
use huddle_catalog::graph::Audience;
use huddle_domain::decider::Decider;
use serde::{Deserialize, Serialize};

/// What the stream's events say of the post.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Post {
    #[default]
    Unknown,
    Live(LivePost),
    Deleted,
}

/// A post that exists: who wrote it, for whom, in which thread, with what (what a command
/// answers with, and a reply decides on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivePost {
    pub author: String,
    pub text: String,
    pub media_ids: Vec<String>,
    pub audience: Audience,
    pub reply_to: Option<String>,
    pub thread_id: String,
    pub mentions: Vec<String>,
    pub tags: Vec<String>,
}

impl Post {
    /// The post while it exists.
    pub fn live(&self) -> Option<&LivePost> {
        match self {
            Post::Live(post) => Some(post),
            Post::Unknown | Post::Deleted => None,
        }
    }
}

/// What the text says besides itself: the accounts its `@names` named and its `#tags`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotations {
    pub mentions: Vec<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostCommand {
    /// `thread_id` is the post's own id, or for a reply (`reply_to`) its parent's thread.
    Create {
        author: String,
        text: String,
        media_ids: Vec<String>,
        audience: Audience,
        reply_to: Option<String>,
        thread_id: String,
        annotations: Annotations,
    },
    Edit {
        by: String,
        text: String,
        annotations: Annotations,
    },
    Delete {
        by: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    #[error("that post id is taken")]
    AlreadyExists,
    /// Unknown, deleted, or another account's: the three look the same to the caller.
    #[error("no such post")]
    NotFound,
    /// A post with no media needs text.
    #[error("a post without media needs text")]
    Empty,
}

pub struct PostStream;

impl Decider for PostStream {
    type State = Post;
    type Command = PostCommand;
    type Event = PostEvent;
    type Error = PostError;

    fn decide(post: &Post, command: PostCommand) -> Result<Vec<PostEvent>, PostError> {
        let owned = |by: &str| post.live().filter(|live| live.author == by).ok_or(PostError::NotFound);
        match command {
            PostCommand::Create { author, text, media_ids, audience, reply_to, thread_id, annotations } => {
                if *post != Post::Unknown {
                    return Err(PostError::AlreadyExists);
                }
                if text.is_empty() && media_ids.is_empty() {
                    return Err(PostError::Empty);
                }
                Ok(vec![PostEvent::PostCreated {
                    author,
                    text,
                    media_ids,
                    audience,
                    reply_to,
                    thread_id,
                    mentions: annotations.mentions,
                    tags: annotations.tags,
                }])
            }
            PostCommand::Edit { by, text, annotations } => {
                let live = owned(&by)?;
                if text.is_empty() && live.media_ids.is_empty() {
                    return Err(PostError::Empty);
                }
                Ok(vec![PostEvent::PostEdited {
                    text,
                    mentions: annotations.mentions,
                    tags: annotations.tags,
                }])
            }
            PostCommand::Delete { by } => {
                owned(&by)?;
                Ok(vec![PostEvent::PostDeleted])
            }
        }
    }

    fn evolve(post: Post, event: &PostEvent) -> Post {
        match (post, event) {
            (
                _,
                PostEvent::PostCreated {
                    author,
                    text,
                    media_ids,
                    audience,
                    reply_to,
                    thread_id,
                    mentions,
                    tags,
                },
            ) => Post::Live(LivePost {
                author: author.clone(),
                text: text.clone(),
                media_ids: media_ids.clone(),
                audience: *audience,
                reply_to: reply_to.clone(),
                thread_id: thread_id.clone(),
                mentions: mentions.clone(),
                tags: tags.clone(),
            }),
            (Post::Live(live), PostEvent::PostEdited { text, mentions, tags }) => Post::Live(LivePost {
                text: text.clone(),
                mentions: mentions.clone(),
                tags: tags.clone(),
                ..live
            }),
            (_, PostEvent::PostDeleted) => Post::Deleted,
            (post, PostEvent::PostEdited { .. }) => post,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_domain::decider::testing::given;

    const ID: &str = "pst_1";

    fn create(text: &str, media_ids: &[&str], reply: Option<(&str, &str)>) -> PostCommand {
        PostCommand::Create {
            author: "ana".into(),
            text: text.into(),
            media_ids: media_ids.iter().map(|id| id.to_string()).collect(),
            audience: Audience::Friends,
            reply_to: reply.map(|(parent, _)| parent.into()),
            thread_id: reply.map_or(ID, |(_, thread)| thread).into(),
            annotations: Annotations { mentions: vec!["acc_bo".into()], tags: vec!["jazz".into()] },
        }
    }

    fn created(text: &str, media_ids: &[&str], reply_to: Option<&str>, thread_id: &str) -> PostEvent {
        PostEvent::PostCreated {
            author: "ana".into(),
            text: text.into(),
            media_ids: media_ids.iter().map(|id| id.to_string()).collect(),
            audience: Audience::Friends,
            reply_to: reply_to.map(Into::into),
            thread_id: thread_id.into(),
            mentions: vec!["acc_bo".into()],
            tags: vec!["jazz".into()],
        }
    }

    fn edit(by: &str, text: &str) -> PostCommand {
        PostCommand::Edit { by: by.into(), text: text.into(), annotations: Annotations::default() }
    }

    fn delete(by: &str) -> PostCommand {
        PostCommand::Delete { by: by.into() }
    }

    fn edited(text: &str) -> PostEvent {
        PostEvent::PostEdited { text: text.into(), mentions: vec![], tags: vec![] }
    }

    #[test]
    fn a_post_is_created_once_as_its_command_says() {
        given::<PostStream>([]).when(create("hi", &[], None)).then([created("hi", &[], None, ID)]);
        given::<PostStream>([]).when(create("hi", &[], Some(("pst_0", "pst_root")))).then([created(
            "hi",
            &[],
            Some("pst_0"),
            "pst_root",
        )]);
        given::<PostStream>([created("hi", &[], None, ID)])
            .when(create("again", &[], None))
            .then_error(PostError::AlreadyExists);
    }

    #[test]
    fn only_a_post_with_media_may_have_no_text() {
        given::<PostStream>([]).when(create("", &[], None)).then_error(PostError::Empty);
        given::<PostStream>([]).when(create("", &["med_1"], None)).then([created("", &["med_1"], None, ID)]);
        given::<PostStream>([created("", &["med_1"], None, ID)]).when(edit("ana", "")).then([edited("")]);
        given::<PostStream>([created("hi", &[], None, ID)])
            .when(edit("ana", ""))
            .then_error(PostError::Empty);
    }

    #[test]
    fn only_the_author_edits_or_deletes_and_a_deleted_post_is_gone() {
        let post = || created("hi", &[], None, ID);
        given::<PostStream>([post()]).when(edit("ana", "hello")).then([edited("hello")]);
        // The same text again is still an edit: the author asked, and `edited_at` says when.
        given::<PostStream>([post()]).when(edit("ana", "hi")).then([edited("hi")]);
        given::<PostStream>([post()]).when(edit("bo", "mine now")).then_error(PostError::NotFound);
        given::<PostStream>([post()]).when(delete("bo")).then_error(PostError::NotFound);
        let deleted = given::<PostStream>([post()]).when(delete("ana")).then([PostEvent::PostDeleted]);
        assert_eq!(deleted, Post::Deleted);
        given::<PostStream>([post(), PostEvent::PostDeleted])
            .when(edit("ana", "back"))
            .then_error(PostError::NotFound);
        given::<PostStream>([post(), PostEvent::PostDeleted])
            .when(delete("ana"))
            .then_error(PostError::NotFound);
        given::<PostStream>([post(), PostEvent::PostDeleted])
            .when(create("hi", &[], None))
            .then_error(PostError::AlreadyExists);
        given::<PostStream>([]).when(edit("ana", "nothing")).then_error(PostError::NotFound);
    }
}
