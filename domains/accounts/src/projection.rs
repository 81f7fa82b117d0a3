//! The projector role: account events into the read table (see `read_model`).

use crate::account::Account;
use crate::read_model::{profile, profile_key, username_key};
use crate::views::{PrivateProfile, PublicProfile};
use async_trait::async_trait;
use huddle_catalog::accounts::{account_of_stream, AccountEvent};
use huddle_delivery::{open_personal, Projected, Projection, ProjectionError};
use huddle_domain::Decider;
use huddle_eventstore::{Envelope, EventStore};
use huddle_ports::{Condition, Table, TableError, TransactWrite};
use serde_json::json;

pub struct AccountsProjection {
    /// Opens sealed fields with the account's key. A shredded key means the account was
    /// erased: its earlier events then project nothing, so a replay never resurrects it.
    pub(crate) events: EventStore,
}

fn put(item: huddle_ports::Item) -> TransactWrite {
    TransactWrite::Put { item, condition: Condition::Always }
}

fn profile_item(account_id: &str, view: &PrivateProfile) -> huddle_ports::Item {
    profile_key(account_id).item(serde_json::to_value(view).expect("profiles serialize"))
}

/// The account's profile item as `change` leaves it; nothing when there is none (the account is
/// erased, or its registration was shredded before a replay reached it).
async fn edited(
    read_model: &dyn Table,
    account_id: &str,
    change: impl FnOnce(&mut PublicProfile),
) -> Result<Vec<TransactWrite>, TableError> {
    let Some(mut view) = profile(read_model, account_id).await? else { return Ok(vec![]) };
    change(&mut view.public);
    Ok(vec![put(profile_item(account_id, &view))])
}

#[async_trait]
impl Projection for AccountsProjection {
    async fn project(&self, event: &Envelope, read_model: &dyn Table) -> Result<Projected, ProjectionError> {
        let account_id = account_of_stream(&event.stream)
            .ok_or_else(|| ProjectionError::Invalid(format!("{} is not an account stream", event.stream)))?;
        let Some(opened) = open_personal::<AccountEvent>(&self.events, event).await? else {
            return Ok(Projected::nothing());
        };
        Ok(match opened {
            registered @ AccountEvent::AccountRegistered { .. } => {
                let Account::Active(account) = Account::evolve(Account::Missing, &registered) else {
                    unreachable!("a registration makes an active account")
                };
                let view = PrivateProfile::of(account_id, &account, event.occurred_at);
                let holder =
                    username_key(&account.username, account_id).item(json!({ "account_id": account_id }));
                vec![put(profile_item(account_id, &view)), put(holder)]
            }
            AccountEvent::ProfileUpdated { display_name, bio, avatar_media_id, interests } => {
                edited(read_model, account_id, |public| {
                    public.display_name = display_name;
                    public.bio = bio;
                    public.avatar_media_id = avatar_media_id;
                    public.interests = interests;
                })
                .await?
            }
            AccountEvent::LockChanged { locked } => {
                edited(read_model, account_id, |public| public.locked = locked).await?
            }
            // Nothing the read model shows.
            AccountEvent::PasswordChanged { .. }
            | AccountEvent::LegacySubjectLinked { .. }
            | AccountEvent::LegacySubjectUnlinked { .. } => vec![],
            AccountEvent::AccountErased => {
                let mut writes = vec![TransactWrite::Delete {
                    key: profile_key(account_id),
                    condition: Condition::Always,
                }];
                if let Some(view) = profile(read_model, account_id).await? {
                    let holder = username_key(&view.public.username, account_id);
                    writes.push(TransactWrite::Delete { key: holder, condition: Condition::Always });
                }
                writes
            }
        }
        .into())
    }
}
