//! Adding an entry to a video thread, removing one, and liking one. An entry goes only into a
//! thread the caller may see (else 404, as a missing one) and may join (else 403
//! `not_joinable`); its append rests on the thread's stream unchanged, so a deletion or a close
//! racing it is decided again on what the thread became.

use super::checks::entry_text_problems;
use super::{no_entry, no_thread, shown, Caller, ContentCommand};
use crate::entry::{EntryCommand, EntryStream, LiveEntry, ThreadEntry};
use crate::read_model::{may_join, may_see, EntryRecord};
use crate::thread::ThreadStream;
use crate::views::NewEntry;
use huddle_catalog::content::{entry_stream, ENTRY_ID_PREFIX};
use huddle_catalog::graph::Audience;
use huddle_domain::decider::{load, refused, Also, Current, ExecuteError};
use huddle_domain::Execution;
use huddle_http::{json_body, json_response, ApiError, Body, Request, Response};
use lambda_http::http::StatusCode;

fn not_joinable() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "not_joinable",
        "you may see this thread, but its owner does not let you add to it",
    )
}

impl ContentCommand {
    pub(crate) async fn add_entry(
        &self,
        caller: &Caller,
        thread_id: &str,
        request: &Request,
    ) -> Result<Response<Body>, ApiError> {
        let NewEntry { media_id, text } = json_body(request)?;
        let thread = self.joinable(thread_id, caller).await?;
        let mut problems = entry_text_problems(&text);
        problems.extend(self.video_problems(&media_id, caller).await?);
        if !problems.is_empty() {
            return Err(ApiError::validation(problems));
        }
        self.counted(caller).await?;
        let Some(live) = thread.state.live() else { return Err(no_thread()) };
        let entry = LiveEntry {
            thread_id: thread_id.to_owned(),
            thread_owner: live.owner.clone(),
            audience: live.audience,
            author: caller.account.clone(),
            media_id,
            text,
        };
        let entry_id = format!("{ENTRY_ID_PREFIX}{}", ulid::Ulid::new());
        // The first attempt rests on the thread as it was checked; one after a conflict (the
        // thread changed) reads it again: still there and still joinable, or refused.
        let mut checked = Some(thread.unchanged());
        let executed = Execution::<EntryStream>::new(
            &self.events,
            entry_stream(&entry_id),
            EntryCommand::Add(entry),
            caller.metadata.clone(),
        )
        .new_stream()
        .execute_with(|_, _| {
            let first = checked.take();
            async move {
                let thread = match first {
                    Some(first) => first,
                    None => {
                        self.joinable(thread_id, caller).await.map_err(ExecuteError::Rejected)?.unchanged()
                    }
                };
                Ok::<_, ExecuteError<ApiError>>(Also { writes: vec![thread], keys: vec![] })
            }
        })
        .await
        .map_err(refused(&caller.request_id))?;
        let ThreadEntry::Live(LiveEntry { thread_id, thread_owner, audience, author, media_id, text }) =
            executed.state
        else {
            return Err(no_entry());
        };
        let created_at = executed.started_at.map(shown).unwrap_or_default();
        let record = EntryRecord { thread_id, thread_owner, audience, author, media_id, text, created_at };
        let view = self.renderer.entry_view(&entry_id, record, &caller.account, &caller.request_id).await?;
        Ok(json_response(StatusCode::CREATED, &view))
    }

    /// The entrant's own, or any in the caller's thread; 404 to anyone else.
    pub(crate) async fn remove_entry(
        &self,
        caller: &Caller,
        thread_id: &str,
        entry_id: &str,
    ) -> Result<(), ApiError> {
        let command = EntryCommand::Remove { by: caller.account.clone(), thread_id: thread_id.to_owned() };
        Execution::<EntryStream>::new(&self.events, entry_stream(entry_id), command, caller.metadata.clone())
            .execute::<ApiError>()
            .await
            .map_err(refused(&caller.request_id))?;
        Ok(())
    }

    /// An entry of this thread that the caller may see: the thread visible to it, and the
    /// entrant not blocked either way nor erased.
    pub(crate) async fn like_entry(
        &self,
        caller: &Caller,
        thread_id: &str,
        entry_id: &str,
    ) -> Result<Response<Body>, ApiError> {
        let internal = |e: &dyn std::fmt::Display| ApiError::internal(&caller.request_id, e);
        let entry =
            load::<EntryStream>(&self.events, entry_stream(entry_id)).await.map_err(|e| internal(&e))?;
        let Some(entry) = entry.state.live().filter(|entry| entry.thread_id == thread_id) else {
            return Err(no_entry());
        };
        let thread = self.visible_thread(thread_id, caller).await?.ok_or_else(no_entry)?;
        let Some(owner) = thread.state.live().map(|thread| thread.owner.as_str()) else {
            return Err(no_entry());
        };
        // Shown to the caller: neither it nor the thread's owner in a block with the entrant.
        let read_model = self.read_model.as_ref();
        let (by_caller, by_owner) = tokio::try_join!(
            may_see(read_model, &self.graph, &caller.account, &entry.author, Audience::Public),
            may_see(read_model, &self.graph, owner, &entry.author, Audience::Public),
        )
        .map_err(|e| internal(&e))?;
        if !(by_caller && by_owner) {
            return Err(no_entry());
        }
        self.like(caller, entry_id).await
    }

    /// Thread `thread_id` if the caller may see it (else 404) and join it now (else 403).
    async fn joinable(&self, thread_id: &str, caller: &Caller) -> Result<Current<ThreadStream>, ApiError> {
        let thread = self.visible_thread(thread_id, caller).await?.ok_or_else(no_thread)?;
        let Some(live) = thread.state.live() else { return Err(no_thread()) };
        let may = may_join(&self.graph, &caller.account, &live.owner, live.joinable_by)
            .await
            .map_err(|e| ApiError::internal(&caller.request_id, &e))?;
        if may {
            Ok(thread)
        } else {
            Err(not_joinable())
        }
    }
}
