//! `given(events).when(command).then(expected_events)`: a decider checked as its use cases see
//! it, without a store. For any domain's unit tests; it is generic, so it costs the binaries
//! that never call it nothing, and needs no feature flag to reach it.
//!
//! ```
//! # use huddle_domain::decider::{testing::given, Decider};
//! # struct Switch;
//! # impl Decider for Switch {
//! #     type State = bool;
//! #     type Command = ();
//! #     type Event = &'static str;
//! #     type Error = &'static str;
//! #     fn decide(on: &bool, _: ()) -> Result<Vec<&'static str>, &'static str> {
//! #         if *on { Err("already on") } else { Ok(vec!["switched on"]) }
//! #     }
//! #     fn evolve(_: bool, _: &&'static str) -> bool { true }
//! # }
//! given::<Switch>([]).when(()).then(["switched on"]);
//! given::<Switch>(["switched on"]).when(()).then_error("already on");
//! ```

use super::Decider;
use std::fmt::Debug;

/// A decider's state after `events`, ready for a command.
pub fn given<D: Decider>(events: impl IntoIterator<Item = D::Event>) -> Given<D>
where
    D::Event: Debug,
{
    let events: Vec<D::Event> = events.into_iter().collect();
    let state = events.iter().fold(D::State::default(), D::evolve);
    Given { state, history: format!("{events:?}") }
}

pub struct Given<D: Decider> {
    state: D::State,
    /// The given events, to name them when an expectation fails.
    history: String,
}

impl<D: Decider> Given<D> {
    /// The state the given events fold into.
    pub fn state(&self) -> &D::State {
        &self.state
    }

    pub fn when(self, command: D::Command) -> When<D>
    where
        D::Command: Debug,
    {
        let scenario = format!("given {} when {command:?}", self.history);
        let decided = D::decide(&self.state, command);
        When { state: self.state, decided, scenario }
    }
}

pub struct When<D: Decider> {
    state: D::State,
    decided: Result<Vec<D::Event>, D::Error>,
    scenario: String,
}

impl<D: Decider> When<D>
where
    D::Event: Debug + PartialEq,
    D::Error: Debug + PartialEq,
{
    /// Asserts the command decided exactly `expected` (none: it changes nothing), and answers the
    /// state they lead to, for what a test checks next.
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = D::Event>) -> D::State {
        let expected: Vec<D::Event> = expected.into_iter().collect();
        match self.decided {
            Ok(events) => {
                assert_eq!(events, expected, "{}", self.scenario);
                events.iter().fold(self.state, D::evolve)
            }
            Err(error) => panic!("{}: refused with {error:?}, expected {expected:?}", self.scenario),
        }
    }

    /// Asserts the command was refused with `expected`.
    #[track_caller]
    pub fn then_error(self, expected: D::Error) {
        match self.decided {
            Ok(events) => panic!("{}: decided {events:?}, expected the error {expected:?}", self.scenario),
            Err(error) => assert_eq!(error, expected, "{}", self.scenario),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A counter that counts to a limit.
    struct Counter;

    #[derive(Debug, PartialEq)]
    enum Counted {
        Incremented { to: u32 },
        Reset,
    }

    #[derive(Debug, PartialEq)]
    struct AtLimit;

    #[derive(Debug)]
    enum Count {
        Increment,
        Reset,
    }

    impl Decider for Counter {
        type State = u32;
        type Command = Count;
        type Event = Counted;
        type Error = AtLimit;

        fn decide(count: &u32, command: Count) -> Result<Vec<Counted>, AtLimit> {
            match command {
                Count::Increment if *count >= 2 => Err(AtLimit),
                Count::Increment => Ok(vec![Counted::Incremented { to: count + 1 }]),
                Count::Reset if *count == 0 => Ok(vec![]),
                Count::Reset => Ok(vec![Counted::Reset]),
            }
        }

        fn evolve(_count: u32, event: &Counted) -> u32 {
            match event {
                Counted::Incremented { to } => *to,
                Counted::Reset => 0,
            }
        }
    }

    #[test]
    fn then_checks_the_decided_events_and_answers_their_state() {
        let state = given::<Counter>([]).when(Count::Increment).then([Counted::Incremented { to: 1 }]);
        assert_eq!(state, 1);
        given::<Counter>([]).when(Count::Reset).then([]);
        assert_eq!(*given::<Counter>([Counted::Incremented { to: 2 }]).state(), 2);
    }

    #[test]
    fn then_error_checks_the_refusal() {
        given::<Counter>([Counted::Incremented { to: 1 }, Counted::Incremented { to: 2 }])
            .when(Count::Increment)
            .then_error(AtLimit);
    }

    #[test]
    #[should_panic(expected = "given [] when Increment")]
    fn other_events_than_expected_fail_naming_the_scenario() {
        given::<Counter>([]).when(Count::Increment).then([Counted::Incremented { to: 2 }]);
    }

    #[test]
    #[should_panic(expected = "refused with AtLimit")]
    fn a_refusal_where_events_were_expected_fails() {
        given::<Counter>([Counted::Incremented { to: 2 }]).when(Count::Increment).then([]);
    }

    #[test]
    #[should_panic(expected = "decided [Reset], expected the error AtLimit")]
    fn events_where_a_refusal_was_expected_fail() {
        given::<Counter>([Counted::Incremented { to: 1 }]).when(Count::Reset).then_error(AtLimit);
    }
}
