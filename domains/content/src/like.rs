//! One account's like of one post, as a decider over its `like#<post>#<liker>` stream: on or
//! off. Liking twice or unliking what is not liked appends nothing, so the stream alternates and
//! a count of `Liked` minus `Unliked` is exact.

use huddle_catalog::content::LikeEvent;
use huddle_domain::decider::Decider;
use std::convert::Infallible;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LikeCommand {
    Like,
    Unlike,
}

pub struct Like;

impl Decider for Like {
    /// Whether the liker likes the post.
    type State = bool;
    type Command = LikeCommand;
    type Event = LikeEvent;
    type Error = Infallible;

    fn decide(liked: &bool, command: LikeCommand) -> Result<Vec<LikeEvent>, Infallible> {
        Ok(match (liked, command) {
            (false, LikeCommand::Like) => vec![LikeEvent::Liked],
            (true, LikeCommand::Unlike) => vec![LikeEvent::Unliked],
            _ => vec![],
        })
    }

    fn evolve(_liked: bool, event: &LikeEvent) -> bool {
        *event == LikeEvent::Liked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_domain::decider::testing::given;

    #[test]
    fn likes_alternate_and_repeats_append_nothing() {
        given::<Like>([]).when(LikeCommand::Like).then([LikeEvent::Liked]);
        given::<Like>([LikeEvent::Liked]).when(LikeCommand::Like).then([]);
        given::<Like>([LikeEvent::Liked]).when(LikeCommand::Unlike).then([LikeEvent::Unliked]);
        given::<Like>([]).when(LikeCommand::Unlike).then([]);
        given::<Like>([LikeEvent::Liked, LikeEvent::Unliked]).when(LikeCommand::Unlike).then([]);
        given::<Like>([LikeEvent::Liked, LikeEvent::Unliked])
            .when(LikeCommand::Like)
            .then([LikeEvent::Liked]);
    }
}
