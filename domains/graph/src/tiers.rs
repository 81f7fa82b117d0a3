//! One `audience#<owner>#<member>` stream: the narrowest tier the owner put the member in. Tiers
//! are nested sets (close friends ⊂ friends ⊂ acquaintances), and the commands act as on sets:
//! putting a member in a tier keeps any narrower tier it is already in; taking it out of a tier
//! takes it out of every narrower one too, and leaves it in the wider ones.

use huddle_catalog::graph::{AudienceEvent, Tier};
use huddle_domain::decider::Decider;
use std::convert::Infallible;

pub struct TierMembership;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierCommand {
    Put(Tier),
    Remove(Tier),
}

impl Decider for TierMembership {
    /// The member's narrowest tier, if any.
    type State = Option<Tier>;
    type Command = TierCommand;
    type Event = AudienceEvent;
    type Error = Infallible;

    fn decide(current: &Option<Tier>, command: TierCommand) -> Result<Vec<AudienceEvent>, Infallible> {
        let after = match command {
            TierCommand::Put(tier) => Some(current.map_or(tier, |current| current.min(tier))),
            TierCommand::Remove(tier) => match current {
                Some(current) if current.within(tier) => tier.wider(),
                _ => *current,
            },
        };
        Ok(match after {
            _ if after == *current => vec![],
            Some(tier) => vec![AudienceEvent::AudienceSet { tier }],
            None => vec![AudienceEvent::AudienceCleared],
        })
    }

    fn evolve(_: Option<Tier>, event: &AudienceEvent) -> Option<Tier> {
        match event {
            AudienceEvent::AudienceSet { tier } => Some(*tier),
            AudienceEvent::AudienceCleared => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_domain::decider::testing::given;
    use AudienceEvent::*;
    use Tier::*;

    #[test]
    fn a_put_narrows_and_never_widens() {
        given::<TierMembership>([]).when(TierCommand::Put(Friends)).then([AudienceSet { tier: Friends }]);
        given::<TierMembership>([AudienceSet { tier: Friends }])
            .when(TierCommand::Put(CloseFriends))
            .then([AudienceSet { tier: CloseFriends }]);
        // A close friend is an acquaintance already.
        given::<TierMembership>([AudienceSet { tier: CloseFriends }])
            .when(TierCommand::Put(Acquaintances))
            .then([]);
        given::<TierMembership>([AudienceSet { tier: Friends }]).when(TierCommand::Put(Friends)).then([]);
    }

    #[test]
    fn a_removal_takes_the_tier_and_every_narrower_one_and_keeps_the_wider() {
        given::<TierMembership>([AudienceSet { tier: CloseFriends }])
            .when(TierCommand::Remove(Friends))
            .then([AudienceSet { tier: Acquaintances }]);
        given::<TierMembership>([AudienceSet { tier: CloseFriends }])
            .when(TierCommand::Remove(CloseFriends))
            .then([AudienceSet { tier: Friends }]);
        given::<TierMembership>([AudienceSet { tier: Friends }])
            .when(TierCommand::Remove(Acquaintances))
            .then([AudienceCleared]);
        // An acquaintance is no friend: nothing to take out.
        given::<TierMembership>([AudienceSet { tier: Acquaintances }])
            .when(TierCommand::Remove(Friends))
            .then([]);
        given::<TierMembership>([]).when(TierCommand::Remove(CloseFriends)).then([]);
    }
}
