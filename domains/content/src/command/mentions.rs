//! `@names` resolved to accounts as a text is written: a name's `username#` reservation stream
//! says who holds it (the accounts domain's own decider over it), so a name released by an
//! erasure or never taken stays text.

use super::{Caller, ContentCommand};
use crate::post::Annotations;
use crate::text;
use huddle_accounts::account::Reservation;
use huddle_catalog::accounts::username_stream;
use huddle_domain::decider::load;
use huddle_http::ApiError;

impl ContentCommand {
    /// The accounts `text` mentions (each once, in order) and its tags. `text` is checked, so it
    /// names at most `MAX_MENTIONS`.
    pub(crate) async fn annotations(&self, text: &str, caller: &Caller) -> Result<Annotations, ApiError> {
        let names = text::mentioned_names(text);
        let holders = names.iter().map(|name| load::<Reservation>(&self.events, username_stream(name)));
        let holders = futures::future::try_join_all(holders)
            .await
            .map_err(|e| ApiError::internal(&caller.request_id, &e))?;
        let mut mentions: Vec<String> = Vec::new();
        for holder in holders {
            if let Reservation::Held { account_id } = holder.state {
                if !mentions.contains(&account_id) {
                    mentions.push(account_id);
                }
            }
        }
        Ok(Annotations { mentions, tags: text::tags(text) })
    }
}
