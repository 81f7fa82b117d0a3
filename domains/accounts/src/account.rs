//! The account aggregate and the name reservations, as deciders: pure `decide` and `evolve`.

use huddle_catalog::accounts::{account_of_stream, AccountEvent, ReservationEvent};
use huddle_domain::Decider;
use huddle_eventstore::SnapshotPolicy;
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
    /// Whether follows of the account wait for its approval. A snapshot written before accounts
    /// could lock has no such field, and describes an unlocked account: no `LockChanged` existed.
    #[serde(default)]
    pub locked: bool,
}

/// Serialized only into the command's snapshots, which are sealed under the account's key, so
/// erasure makes them unreadable with its events.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Account {
    #[default]
    Missing,
    Active(ActiveAccount),
    Erased,
}

/// A change to some profile fields, and to whether the account is locked: `None` leaves a field
/// as it is, `Some(None)` clears it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileChanges {
    pub display_name: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub avatar_media_id: Option<Option<String>>,
    pub interests: Option<Vec<String>>,
    pub locked: Option<bool>,
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
    /// The current password was verified; this is the new one's hash. Ends the legacy link.
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

impl Decider for Account {
    type State = Account;
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = AccountError;

    /// An account is loaded from its snapshot and at most about 50 events after it. Schema 2:
    /// the kit's `{state, started_at}`; the `{account, created_at}` snapshots of schema 1 are
    /// not read, and the next append past the interval replaces them. `locked` came later
    /// within schema 2: older snapshots lack it and load as unlocked, which they were.
    const SNAPSHOTS: Option<SnapshotPolicy> = Some(SnapshotPolicy { interval: 50, schema: 2 });

    fn decide(state: &Account, command: AccountCommand) -> Result<Vec<AccountEvent>, AccountError> {
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
                    avatar_media_id: changes
                        .avatar_media_id
                        .unwrap_or_else(|| current.avatar_media_id.clone()),
                    interests: changes.interests.unwrap_or_else(|| current.interests.clone()),
                };
                // Each change is its own event, and only a change is one: the graph follows the
                // lock without reading the sealed profile.
                let profile_updated = (&updated != current).then(|| {
                    let Profile { display_name, bio, avatar_media_id, interests } = updated;
                    AccountEvent::ProfileUpdated { display_name, bio, avatar_media_id, interests }
                });
                let lock_changed = changes
                    .locked
                    .filter(|locked| *locked != account.locked)
                    .map(|locked| AccountEvent::LockChanged { locked });
                Ok(profile_updated.into_iter().chain(lock_changed).collect())
            }
            (Account::Active(account), AccountCommand::ChangePassword { password_hash }) => {
                Ok([AccountEvent::PasswordChanged { password_hash }]
                    .into_iter()
                    .chain(unlink(account))
                    .collect())
            }
            (Account::Active(account), AccountCommand::LinkLegacySubject { subject }) => {
                match &account.legacy_subject {
                    None => Ok(vec![AccountEvent::LegacySubjectLinked { subject }]),
                    Some(linked) if *linked == subject => Ok(vec![]),
                    Some(_) => Err(AccountError::LinkedElsewhere),
                }
            }
            (Account::Active(account), AccountCommand::UnlinkLegacySubject) => Ok(unlink(account)),
            (Account::Active(_), AccountCommand::Erase) => Ok(vec![AccountEvent::AccountErased]),
            (Account::Erased, AccountCommand::Erase) => Ok(vec![]),
            (Account::Missing | Account::Erased, _) => Err(AccountError::NotFound),
        }
    }

    fn evolve(state: Account, event: &AccountEvent) -> Account {
        match (state, event) {
            (_, AccountEvent::AccountRegistered { username, email, password_hash, display_name }) => {
                Account::Active(ActiveAccount {
                    username: username.clone(),
                    email: email.clone(),
                    password_hash: password_hash.clone(),
                    profile: Profile { display_name: display_name.clone(), ..Profile::default() },
                    legacy_subject: None,
                    locked: false,
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
            (Account::Active(mut account), AccountEvent::LockChanged { locked }) => {
                account.locked = *locked;
                Account::Active(account)
            }
            (_, AccountEvent::AccountErased) => Account::Erased,
            (
                state,
                AccountEvent::ProfileUpdated { .. }
                | AccountEvent::LockChanged { .. }
                | AccountEvent::PasswordChanged { .. }
                | AccountEvent::LegacySubjectLinked { .. }
                | AccountEvent::LegacySubjectUnlinked { .. },
            ) => state,
        }
    }

    fn data_subject(stream: &str) -> Option<&str> {
        account_of_stream(stream)
    }
}

/// What ends `account`'s legacy link: nothing when it has none.
fn unlink(account: &ActiveAccount) -> Vec<AccountEvent> {
    let subject = account.legacy_subject.iter();
    subject.map(|subject| AccountEvent::LegacySubjectUnlinked { subject: subject.clone() }).collect()
}

/// Who holds a username, an email address or a legacy subject.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
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

impl Decider for Reservation {
    type State = Reservation;
    type Command = ReservationCommand;
    type Event = ReservationEvent;
    type Error = Taken;

    fn decide(state: &Reservation, command: ReservationCommand) -> Result<Vec<ReservationEvent>, Taken> {
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

    fn evolve(_state: Reservation, event: &ReservationEvent) -> Reservation {
        match event {
            ReservationEvent::ReservationClaimed { account_id } => {
                Reservation::Held { account_id: account_id.clone() }
            }
            ReservationEvent::ReservationReleased { .. } => Reservation::Free,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_domain::decider::testing::given;

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

    fn linked() -> AccountEvent {
        AccountEvent::LegacySubjectLinked { subject: "legacy-42".into() }
    }

    fn unlinked() -> AccountEvent {
        AccountEvent::LegacySubjectUnlinked { subject: "legacy-42".into() }
    }

    #[test]
    fn an_account_registers_once() {
        given::<Account>([]).when(register()).then([registered()]);
        given::<Account>([registered()]).when(register()).then_error(AccountError::AlreadyExists);
        // An erased account's id is never reused.
        given::<Account>([registered(), AccountEvent::AccountErased])
            .when(register())
            .then_error(AccountError::AlreadyExists);
    }

    #[test]
    fn a_profile_update_records_the_whole_new_profile_and_nothing_when_nothing_changes() {
        let changes = ProfileChanges {
            bio: Some(Some("runner".into())),
            interests: Some(vec!["running".into()]),
            ..ProfileChanges::default()
        };
        let updated = AccountEvent::ProfileUpdated {
            display_name: Some("Ana".into()),
            bio: Some("runner".into()),
            avatar_media_id: None,
            interests: vec!["running".into()],
        };
        given::<Account>([registered()])
            .when(AccountCommand::UpdateProfile(changes.clone()))
            .then([updated.clone()]);
        given::<Account>([registered(), updated.clone()])
            .when(AccountCommand::UpdateProfile(changes))
            .then([]);

        let cleared = ProfileChanges { display_name: Some(None), ..ProfileChanges::default() };
        given::<Account>([registered(), updated]).when(AccountCommand::UpdateProfile(cleared)).then([
            AccountEvent::ProfileUpdated {
                display_name: None,
                bio: Some("runner".into()),
                avatar_media_id: None,
                interests: vec!["running".into()],
            },
        ]);
    }

    fn lock(locked: bool) -> AccountCommand {
        AccountCommand::UpdateProfile(ProfileChanges { locked: Some(locked), ..ProfileChanges::default() })
    }

    fn lock_changed(locked: bool) -> AccountEvent {
        AccountEvent::LockChanged { locked }
    }

    fn is_locked(account: &Account) -> bool {
        let Account::Active(account) = account else { panic!("still active") };
        account.locked
    }

    #[test]
    fn an_account_locks_and_unlocks_with_its_own_event_and_only_when_that_changes_it() {
        assert!(!is_locked(given::<Account>([registered()]).state()), "a new account is not locked");
        let locked = given::<Account>([registered()]).when(lock(true)).then([lock_changed(true)]);
        assert!(is_locked(&locked));
        given::<Account>([registered(), lock_changed(true)]).when(lock(true)).then([]);
        given::<Account>([registered()]).when(lock(false)).then([]);
        let unlocked = given::<Account>([registered(), lock_changed(true)])
            .when(lock(false))
            .then([lock_changed(false)]);
        assert!(!is_locked(&unlocked));
        given::<Account>([registered(), AccountEvent::AccountErased])
            .when(lock(true))
            .then_error(AccountError::NotFound);
    }

    #[test]
    fn a_patch_of_the_profile_and_the_lock_appends_an_event_for_each_that_changes() {
        let bio = |locked: Option<bool>| {
            AccountCommand::UpdateProfile(ProfileChanges {
                bio: Some(Some("runner".into())),
                locked,
                ..ProfileChanges::default()
            })
        };
        let bio_updated = AccountEvent::ProfileUpdated {
            display_name: Some("Ana".into()),
            bio: Some("runner".into()),
            avatar_media_id: None,
            interests: vec![],
        };
        given::<Account>([registered()])
            .when(bio(Some(true)))
            .then([bio_updated.clone(), lock_changed(true)]);
        given::<Account>([registered(), lock_changed(true)])
            .when(bio(Some(true)))
            .then([bio_updated.clone()]);
        given::<Account>([registered()]).when(bio(Some(false))).then([bio_updated.clone()]);
        // A profile update leaves the lock as it was.
        let still_locked =
            given::<Account>([registered(), lock_changed(true)]).when(bio(None)).then([bio_updated.clone()]);
        assert!(is_locked(&still_locked));
        given::<Account>([registered(), bio_updated]).when(bio(Some(true))).then([lock_changed(true)]);
    }

    #[test]
    fn a_snapshot_from_before_accounts_could_lock_loads_as_unlocked() {
        let before_locks = serde_json::json!({"Active": {
            "username": "ana",
            "email": "ana@example.com",
            "password_hash": "$argon2id$...",
            "profile": {"display_name": "Ana", "bio": null, "avatar_media_id": null, "interests": []},
            "legacy_subject": null,
        }});
        let loaded: Account = serde_json::from_value(before_locks).expect("an older snapshot's state loads");
        assert_eq!(&loaded, given::<Account>([registered()]).state());
    }

    #[test]
    fn a_new_password_replaces_the_old_one_and_ends_the_legacy_link() {
        let change = || AccountCommand::ChangePassword { password_hash: "$argon2id$new".into() };
        let changed = AccountEvent::PasswordChanged { password_hash: "$argon2id$new".into() };
        let Account::Active(account) =
            given::<Account>([registered()]).when(change()).then([changed.clone()])
        else {
            panic!("still active")
        };
        assert_eq!(account.password_hash, "$argon2id$new");
        given::<Account>([registered(), linked()]).when(change()).then([changed, unlinked()]);
        given::<Account>([registered(), AccountEvent::AccountErased])
            .when(change())
            .then_error(AccountError::NotFound);
    }

    #[test]
    fn an_account_links_one_legacy_subject_once() {
        let link = |subject: &str| AccountCommand::LinkLegacySubject { subject: subject.into() };
        given::<Account>([registered()]).when(link("legacy-42")).then([linked()]);
        // Again: nothing.
        given::<Account>([registered(), linked()]).when(link("legacy-42")).then([]);
        given::<Account>([registered(), linked()])
            .when(link("legacy-43"))
            .then_error(AccountError::LinkedElsewhere);
        given::<Account>([registered(), linked()])
            .when(AccountCommand::UnlinkLegacySubject)
            .then([unlinked()]);
        given::<Account>([registered()]).when(AccountCommand::UnlinkLegacySubject).then([]);
        // After the unlink, another legacy user may be linked.
        given::<Account>([registered(), linked(), unlinked()])
            .when(link("legacy-43"))
            .then([AccountEvent::LegacySubjectLinked { subject: "legacy-43".into() }]);
    }

    #[test]
    fn erasing_is_final_and_repeatable() {
        let erased = || [registered(), AccountEvent::AccountErased];
        given::<Account>([registered()]).when(AccountCommand::Erase).then([AccountEvent::AccountErased]);
        given::<Account>(erased()).when(AccountCommand::Erase).then([]);
        given::<Account>(erased())
            .when(AccountCommand::UpdateProfile(ProfileChanges::default()))
            .then_error(AccountError::NotFound);
        given::<Account>([]).when(AccountCommand::Erase).then_error(AccountError::NotFound);
        // A shredded registration is skipped when loading; the erasure alone still says erased.
        assert_eq!(given::<Account>([AccountEvent::AccountErased]).state(), &Account::Erased);
    }

    #[test]
    fn a_reservation_is_held_by_one_account_until_it_releases_it() {
        let claim = |id: &str| ReservationCommand::Claim { account_id: id.into() };
        let release = |id: &str| ReservationCommand::Release { account_id: id.into() };
        let claimed = |id: &str| ReservationEvent::ReservationClaimed { account_id: id.into() };
        let released = ReservationEvent::ReservationReleased { account_id: "a".into() };
        given::<Reservation>([]).when(claim("a")).then([claimed("a")]);
        given::<Reservation>([claimed("a")]).when(claim("b")).then_error(Taken);
        given::<Reservation>([claimed("a")]).when(claim("a")).then([]);
        // Only the holder releases.
        given::<Reservation>([claimed("a")]).when(release("b")).then([]);
        given::<Reservation>([claimed("a")]).when(release("a")).then([released.clone()]);
        given::<Reservation>([claimed("a"), released]).when(claim("b")).then([claimed("b")]);
    }
}
