//! Blocks and mutes: a `block#` or `mute#` pair stream is on or off, and turning it the way it
//! already is appends nothing. One decider serves both, over each one's own events.

use huddle_catalog::graph::{BlockEvent, MuteEvent};
use huddle_domain::decider::Decider;
use std::convert::Infallible;
use std::fmt::Debug;
use std::marker::PhantomData;

/// The two events of an on/off relation.
pub trait OnOff: Copy + PartialEq + Debug {
    const ON: Self;
    const OFF: Self;
}

impl OnOff for BlockEvent {
    const ON: Self = BlockEvent::Blocked;
    const OFF: Self = BlockEvent::Unblocked;
}

impl OnOff for MuteEvent {
    const ON: Self = MuteEvent::Muted;
    const OFF: Self = MuteEvent::Unmuted;
}

/// A relation that is on or off, with events `E`.
pub struct Relation<E>(PhantomData<E>);

pub type Block = Relation<BlockEvent>;
pub type Mute = Relation<MuteEvent>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    On,
    Off,
}

impl<E: OnOff> Decider for Relation<E> {
    /// Whether the relation is on.
    type State = bool;
    type Command = Turn;
    type Event = E;
    type Error = Infallible;

    fn decide(on: &bool, turn: Turn) -> Result<Vec<E>, Infallible> {
        Ok(match (turn, on) {
            (Turn::On, false) => vec![E::ON],
            (Turn::Off, true) => vec![E::OFF],
            _ => vec![],
        })
    }

    fn evolve(_: bool, event: &E) -> bool {
        *event == E::ON
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_domain::decider::testing::given;

    #[test]
    fn a_block_turns_on_and_off_once_each_way() {
        given::<Block>([]).when(Turn::On).then([BlockEvent::Blocked]);
        given::<Block>([BlockEvent::Blocked]).when(Turn::On).then([]);
        given::<Block>([BlockEvent::Blocked]).when(Turn::Off).then([BlockEvent::Unblocked]);
        given::<Block>([BlockEvent::Blocked, BlockEvent::Unblocked]).when(Turn::Off).then([]);
        given::<Block>([]).when(Turn::Off).then([]);
    }

    #[test]
    fn a_mute_is_the_same_switch_over_its_own_events() {
        given::<Mute>([]).when(Turn::On).then([MuteEvent::Muted]);
        given::<Mute>([MuteEvent::Muted]).when(Turn::Off).then([MuteEvent::Unmuted]);
        assert!(!*given::<Mute>([MuteEvent::Muted, MuteEvent::Unmuted]).state());
    }
}
