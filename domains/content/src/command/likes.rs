//! Liking a post or a thread's entry the caller may see, and taking the like back: one
//! `like#<item>#<liker>` stream per item and liker whatever the item is.

use super::{not_found, Caller, ContentCommand};
use crate::like::{Like, LikeCommand};
use crate::read_model::{count, counts_key, like_key, LIKE_COUNT};
use crate::views::Liked;
use huddle_catalog::content::like_stream;
use huddle_domain::decider::refused;
use huddle_domain::Execution;
use huddle_http::{json_response, ApiError, Body, Response};
use lambda_http::http::StatusCode;

impl ContentCommand {
    pub(crate) async fn like_post(&self, caller: &Caller, post_id: &str) -> Result<Response<Body>, ApiError> {
        self.visible(post_id, caller).await?.ok_or_else(not_found)?;
        self.like(caller, post_id).await
    }

    /// `item` (a post or an entry the caller was found to may see), liked. Idempotent: liking
    /// again appends nothing and answers the same.
    pub(crate) async fn like(&self, caller: &Caller, item: &str) -> Result<Response<Body>, ApiError> {
        let stream = like_stream(item, &caller.account);
        let executed =
            Execution::<Like>::new(&self.events, stream, LikeCommand::Like, caller.metadata.clone())
                .execute::<ApiError>()
                .await
                .map_err(refused(&caller.request_id))?;
        // The count is the projection's. The like item is read before the count: when it is not
        // there yet, this like is not counted yet either, and is added (a projection landing
        // between the two reads would count it twice in this answer; the next read is exact).
        let failed = |e: huddle_ports::TableError| ApiError::internal(&caller.request_id, &e);
        let projected = self.read_model.get(&like_key(item, &caller.account)).await.map_err(failed)?;
        let counts = self.read_model.get(&counts_key(item)).await.map_err(failed)?;
        let pending = u64::from(projected.is_none() && executed.state);
        let like_count = count(counts.as_ref(), LIKE_COUNT) + pending;
        Ok(json_response(StatusCode::OK, &Liked { liked: true, like_count }))
    }

    /// 204 whether or not the caller liked the item, and whether or not it may still see it: a
    /// like is the liker's to take back.
    pub(crate) async fn unlike(&self, caller: &Caller, item: &str) -> Result<(), ApiError> {
        let stream = like_stream(item, &caller.account);
        Execution::<Like>::new(&self.events, stream, LikeCommand::Unlike, caller.metadata.clone())
            .execute::<ApiError>()
            .await
            .map_err(refused(&caller.request_id))?;
        Ok(())
    }
}
