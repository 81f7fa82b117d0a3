//! Beginning, changing and deleting a video thread. Each answers with the thread as
//! `GET /v1/threads/{id}` shows it (deleting, with nothing).

use super::checks::title_problems;
use super::{no_thread, shown, Caller, ContentCommand};
use crate::read_model::ThreadRecord;
use crate::thread::{LiveThread, Thread, ThreadCommand, ThreadStream};
use crate::views::{NewThread, ThreadChange, ThreadView};
use huddle_catalog::content::{thread_stream, JoinableBy, THREAD_ID_PREFIX};
use huddle_catalog::graph::Audience;
use huddle_domain::decider::refused;
use huddle_domain::Execution;
use huddle_http::{json_body, json_response, ApiError, Body, FieldError, Request, Response};
use lambda_http::http::StatusCode;
use time::OffsetDateTime;

impl ContentCommand {
    pub(crate) async fn create_thread(
        &self,
        caller: &Caller,
        request: &Request,
    ) -> Result<Response<Body>, ApiError> {
        let NewThread { title, media_id, audience, joinable_by } = json_body(request)?;
        let mut problems = title_problems(&title);
        problems.extend(self.video_problems(&media_id, caller).await?);
        if !problems.is_empty() {
            return Err(ApiError::validation(problems));
        }
        self.counted(caller).await?;
        let thread_id = format!("{THREAD_ID_PREFIX}{}", ulid::Ulid::new());
        let command = ThreadCommand::Create(LiveThread {
            owner: caller.account.clone(),
            title,
            media_id,
            audience: audience.unwrap_or(Audience::Followers),
            joinable_by: joinable_by.unwrap_or(JoinableBy::Followers),
        });
        let executed = Execution::<ThreadStream>::new(
            &self.events,
            thread_stream(&thread_id),
            command,
            caller.metadata.clone(),
        )
        .new_stream()
        .execute::<ApiError>()
        .await
        .map_err(refused(&caller.request_id))?;
        let view = self.thread_answer(&thread_id, executed.state, executed.started_at, None, caller).await?;
        Ok(json_response(StatusCode::CREATED, &view))
    }

    /// The owner's change of the title or of who may join (`nobody` closes it to new entries).
    pub(crate) async fn change_thread(
        &self,
        caller: &Caller,
        thread_id: &str,
        request: &Request,
    ) -> Result<Response<Body>, ApiError> {
        let ThreadChange { title, joinable_by } = json_body(request)?;
        let problems = match (&title, joinable_by) {
            (None, None) => vec![FieldError::new("title", "send a title, joinable_by or both")],
            (Some(title), _) => title_problems(title),
            (None, Some(_)) => vec![],
        };
        if !problems.is_empty() {
            return Err(ApiError::validation(problems));
        }
        self.counted(caller).await?;
        let command = ThreadCommand::Change { by: caller.account.clone(), title, joinable_by };
        let executed = Execution::<ThreadStream>::new(
            &self.events,
            thread_stream(thread_id),
            command,
            caller.metadata.clone(),
        )
        .execute::<ApiError>()
        .await
        .map_err(refused(&caller.request_id))?;
        let edited_at = executed.appended.and_then(|appended| appended.occurred_at);
        let view =
            self.thread_answer(thread_id, executed.state, executed.started_at, edited_at, caller).await?;
        Ok(json_response(StatusCode::OK, &view))
    }

    pub(crate) async fn delete_thread(&self, caller: &Caller, thread_id: &str) -> Result<(), ApiError> {
        let command = ThreadCommand::Delete { by: caller.account.clone() };
        Execution::<ThreadStream>::new(
            &self.events,
            thread_stream(thread_id),
            command,
            caller.metadata.clone(),
        )
        .execute::<ApiError>()
        .await
        .map_err(refused(&caller.request_id))?;
        Ok(())
    }

    /// The view of the caller's own thread from its folded state: its owner may always join.
    async fn thread_answer(
        &self,
        thread_id: &str,
        thread: Thread,
        created_at: Option<OffsetDateTime>,
        edited_at: Option<OffsetDateTime>,
        caller: &Caller,
    ) -> Result<ThreadView, ApiError> {
        let Thread::Live(LiveThread { owner, title, media_id, audience, joinable_by }) = thread else {
            return Err(no_thread());
        };
        let record = ThreadRecord {
            owner,
            title,
            media_id,
            audience,
            joinable_by,
            created_at: created_at.map(shown).unwrap_or_default(),
            edited_at: edited_at.map(shown),
        };
        self.renderer.thread_view(thread_id, record, true, &caller.request_id).await
    }
}
