//! The account aggregate and the name reservations, as deciders: pure `decide` and `evolve`.

use huddle_catalog::accounts::{AccountEvent, ReservationEvent};
use serde::{Deserialize, Serialize};

/// The profile a user edits.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Profile {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_media_id: Option<String>,
    pub interests: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveAccount {
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub profile: Profile,
    /// The legacy application's user this account is, once linked.
    pub legacy_subject: Option<String>,
}

/// Serialized only into the command's snapshots, which are sealed under the account's key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Account {
    #[default]
    Missing,
    Active(ActiveAccount),
    Erased,
}

/// A change to some profile fields: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileChanges {
    pub display_name: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub avatar_media_id: Option<Option<String>>,
    pub interests: Option<Vec<String>>,
}

/// Commands carry validated input (see `validation`) and an already hashed password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountCommand {
    Register {
        username: String,
        email: String,
        password_hash: String,
        display_name: Option<String>,
    },
    UpdateProfile(ProfileChanges),
    /// The current password was verified; this is the new one's hash.
    ChangePassword {
        password_hash: String,
    },
    LinkLegacySubject {
        subject: String,
    },
    /// Ends the legacy link, if there is one.
    UnlinkLegacySubject,
    Erase,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("the account already exists")]
    AlreadyExists,
    #[error("no such account")]
    NotFound,
    #[error("the account is linked to another legacy user")]
    LinkedElsewhere,
}

pub fn decide(state: &Account, command: AccountCommand) -> Result<Vec<AccountEvent>, AccountError> {
    match (state, command) {
        (Account::Missing, AccountCommand::Register { username, email, password_hash, display_name }) => {
            Ok(vec![AccountEvent::AccountRegistered { username, email, password_hash, display_name }])
        }
        (_, AccountCommand::Register { .. }) => Err(AccountError::AlreadyExists),
        (Account::Active(account), AccountCommand::UpdateProfile(changes)) => {
            let current = &account.profile;
            let updated = Profile {
                display_name: changes.display_name.unwrap_or_else(|| current.display_name.clone()),
                bio: changes.bio.unwrap_or_else(|| current.bio.clone()),
                avatar_media_id: changes.avatar_media_id.unwrap_or_else(|| current.avatar_media_id.clone()),
                interests: changes.interests.unwrap_or_else(|| current.interests.clone()),
            };
            if &updated == current {
                return Ok(vec![]);
            }
            let Profile { display_name, bio, avatar_media_id, interests } = updated;
            Ok(vec![AccountEvent::ProfileUpdated { display_name, bio, avatar_media_id, interests }])
        }
        (Account::Active(_), AccountCommand::ChangePassword { password_hash }) => {
            Ok(vec![AccountEvent::PasswordChanged { password_hash }])
        }
        (Account::Active(account), AccountCommand::LinkLegacySubject { subject }) => {
            match &account.legacy_subject {
                None => Ok(vec![AccountEvent::LegacySubjectLinked { subject }]),
                Some(linked) if *linked == subject => Ok(vec![]),
                Some(_) => Err(AccountError::LinkedElsewhere),
            }
        }
        (Account::Active(account), AccountCommand::UnlinkLegacySubject) => Ok(account
            .legacy_subject
            .iter()
            .map(|subject| AccountEvent::LegacySubjectUnlinked { subject: subject.clone() })
            .collect()),
        (Account::Active(_), AccountCommand::Erase) => Ok(vec![AccountEvent::AccountErased]),
        (Account::Erased, AccountCommand::Erase) => Ok(vec![]),
        (Account::Missing | Account::Erased, _) => Err(AccountError::NotFound),
    }
}

pub fn evolve(state: Account, event: &AccountEvent) -> Account {
    match (state, event) {
        (_, AccountEvent::AccountRegistered { username, email, password_hash, display_name }) => {
            Account::Active(ActiveAccount {
                username: username.clone(),
                email: email.clone(),
                password_hash: password_hash.clone(),
                profile: Profile { display_name: display_name.clone(), ..Profile::default() },
                legacy_subject: None,
            })
        }
        (Account::Active(mut account), AccountEvent::PasswordChanged { password_hash }) => {
            account.password_hash = password_hash.clone();
            Account::Active(account)
        }
        (Account::Active(mut account), AccountEvent::LegacySubjectLinked { subject }) => {
            account.legacy_subject = Some(subject.clone());
            Account::Active(account)
        }
        (Account::Active(mut account), AccountEvent::LegacySubjectUnlinked { .. }) => {
            account.legacy_subject = None;
            Account::Active(account)
        }
        (
            Account::Active(mut account),
            AccountEvent::ProfileUpdated { display_name, bio, avatar_media_id, interests },
        ) => {
            account.profile = Profile {
                display_name: display_name.clone(),
                bio: bio.clone(),
                avatar_media_id: avatar_media_id.clone(),
                interests: interests.clone(),
            };
            Account::Active(account)
        }
        (_, AccountEvent::AccountErased) => Account::Erased,
        (
            state,
            AccountEvent::ProfileUpdated { .. }
            | AccountEvent::PasswordChanged { .. }
            | AccountEvent::LegacySubjectLinked { .. }
            | AccountEvent::LegacySubjectUnlinked { .. },
        ) => state,
    }
}

/// Who holds a username or an email address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Reservation {
    #[default]
    Free,
    Held {
        account_id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReservationCommand {
    Claim { account_id: String },
    Release { account_id: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the name is taken")]
pub struct Taken;

pub fn decide_reservation(
    state: &Reservation,
    command: ReservationCommand,
) -> Result<Vec<ReservationEvent>, Taken> {
    match (state, command) {
        (Reservation::Free, ReservationCommand::Claim { account_id }) => {
            Ok(vec![ReservationEvent::ReservationClaimed { account_id }])
        }
        (Reservation::Held { account_id: holder }, ReservationCommand::Claim { account_id }) => {
            if *holder == account_id {
                Ok(vec![])
            } else {
                Err(Taken)
            }
        }
        (Reservation::Held { account_id: holder }, ReservationCommand::Release { account_id })
            if *holder == account_id =>
        {
            Ok(vec![ReservationEvent::ReservationReleased { account_id }])
        }
        (_, ReservationCommand::Release { .. }) => Ok(vec![]),
    }
}

pub fn evolve_reservation(_state: Reservation, event: &ReservationEvent) -> Reservation {
    match event {
        ReservationEvent::ReservationClaimed { account_id } => {
            Reservation::Held { account_id: account_id.clone() }
        }
        ReservationEvent::ReservationReleased { .. } => Reservation::Free,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(events: &[AccountEvent]) -> Account {
        events.iter().fold(Account::default(), evolve)
    }

    fn registered() -> AccountEvent {
        AccountEvent::AccountRegistered {
            username: "ana".into(),
            email: "ana@example.com".into(),
            password_hash: "$argon2id$...".into(),
            display_name: Some("Ana".into()),
        }
    }

    fn register() -> AccountCommand {
        AccountCommand::Register {
            username: "ana".into(),
            email: "ana@example.com".into(),
            password_hash: "$argon2id$...".into(),
            display_name: Some("Ana".into()),
        }
    }

    #[test]
    fn an_account_registers_once() {
        assert_eq!(decide(&given(&[]), register()), Ok(vec![registered()]));
        assert_eq!(decide(&given(&[registered()]), register()), Err(AccountError::AlreadyExists));
        assert_eq!(
            decide(&given(&[registered(), AccountEvent::AccountErased]), register()),
            Err(AccountError::AlreadyExists),
            "an erased account's id is never reused"
        );
    }

    #[test]
    fn a_profile_update_records_the_whole_new_profile_and_nothing_when_nothing_changes() {
        let changes = ProfileChanges {
            bio: Some(Some("runner".into())),
            interests: Some(vec!["running".into()]),
            ..ProfileChanges::default()
        };
        let updated = decide(&given(&[registered()]), AccountCommand::UpdateProfile(changes.clone()));
        let expected = AccountEvent::ProfileUpdated {
            display_name: Some("Ana".into()),
            bio: Some("runner".into()),
            avatar_media_id: None,
            interests: vec!["running".into()],
        };
        assert_eq!(updated, Ok(vec![expected.clone()]));
        assert_eq!(
            decide(&given(&[registered(), expected.clone()]), AccountCommand::UpdateProfile(changes)),
            Ok(vec![])
        );

        let cleared = ProfileChanges { display_name: Some(None), ..ProfileChanges::default() };
        let Ok(events) = decide(&given(&[registered(), expected]), AccountCommand::UpdateProfile(cleared))
        else {
            panic!("an active account updates")
        };
        assert!(matches!(
            &events[..],
            [AccountEvent::ProfileUpdated { display_name: None, bio: Some(_), .. }]
        ));
    }

    #[test]
    fn a_new_password_replaces_the_old_one() {
        let change = AccountCommand::ChangePassword { password_hash: "$argon2id$new".into() };
        let events = decide(&given(&[registered()]), change.clone()).unwrap();
        assert_eq!(events, vec![AccountEvent::PasswordChanged { password_hash: "$argon2id$new".into() }]);
        let Account::Active(account) = given(&[registered(), events[0].clone()]) else {
            panic!("still active")
        };
        assert_eq!(account.password_hash, "$argon2id$new");
        assert_eq!(
            decide(&given(&[registered(), AccountEvent::AccountErased]), change),
            Err(AccountError::NotFound)
        );
    }

    #[test]
    fn an_account_links_one_legacy_subject_once() {
        let link = |subject: &str| AccountCommand::LinkLegacySubject { subject: subject.into() };
        let linked = AccountEvent::LegacySubjectLinked { subject: "legacy-42".into() };
        assert_eq!(decide(&given(&[registered()]), link("legacy-42")), Ok(vec![linked.clone()]));
        assert_eq!(
            decide(&given(&[registered(), linked.clone()]), link("legacy-42")),
            Ok(vec![]),
            "again: nothing"
        );
        assert_eq!(
            decide(&given(&[registered(), linked.clone()]), link("legacy-43")),
            Err(AccountError::LinkedElsewhere)
        );
        let unlinked = AccountEvent::LegacySubjectUnlinked { subject: "legacy-42".into() };
        assert_eq!(
            decide(&given(&[registered(), linked.clone()]), AccountCommand::UnlinkLegacySubject),
            Ok(vec![unlinked.clone()])
        );
        assert_eq!(decide(&given(&[registered()]), AccountCommand::UnlinkLegacySubject), Ok(vec![]));
        assert_eq!(
            decide(&given(&[registered(), linked, unlinked]), link("legacy-43")).map(|e| e.len()),
            Ok(1),
            "after the unlink, another legacy user may be linked"
        );
    }

    #[test]
    fn erasing_is_final_and_repeatable() {
        let erased = given(&[registered(), AccountEvent::AccountErased]);
        assert_eq!(
            decide(&given(&[registered()]), AccountCommand::Erase),
            Ok(vec![AccountEvent::AccountErased])
        );
        assert_eq!(decide(&erased, AccountCommand::Erase), Ok(vec![]));
        assert_eq!(
            decide(&erased, AccountCommand::UpdateProfile(ProfileChanges::default())),
            Err(AccountError::NotFound)
        );
        assert_eq!(decide(&given(&[]), AccountCommand::Erase), Err(AccountError::NotFound));
        // A shredded registration is skipped when loading; the erasure alone still says erased.
        assert_eq!(given(&[AccountEvent::AccountErased]), Account::Erased);
    }

    #[test]
    fn a_reservation_is_held_by_one_account_until_it_releases_it() {
        let claim = |id: &str| ReservationCommand::Claim { account_id: id.into() };
        let release = |id: &str| ReservationCommand::Release { account_id: id.into() };
        let held = evolve_reservation(
            Reservation::Free,
            &ReservationEvent::ReservationClaimed { account_id: "a".into() },
        );
        assert_eq!(
            decide_reservation(&Reservation::Free, claim("a")),
            Ok(vec![ReservationEvent::ReservationClaimed { account_id: "a".into() }])
        );
        assert_eq!(decide_reservation(&held, claim("b")), Err(Taken));
        assert_eq!(decide_reservation(&held, claim("a")), Ok(vec![]));
        assert_eq!(decide_reservation(&held, release("b")), Ok(vec![]), "only the holder releases");
        assert_eq!(
            decide_reservation(&held, release("a")),
            Ok(vec![ReservationEvent::ReservationReleased { account_id: "a".into() }])
        );
        let freed =
            evolve_reservation(held, &ReservationEvent::ReservationReleased { account_id: "a".into() });
        assert_eq!(decide_reservation(&freed, claim("b")).map(|e| e.len()), Ok(1));
    }
}
