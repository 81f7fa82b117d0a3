//! Creating, editing and deleting a post. Each answers with the post as `GET /v1/posts/{id}`
//! shows it (deleting, with nothing).

use super::checks::{audience_problems, media_id_problems, text_problems};
use super::{not_found, record_of, Caller, ContentCommand};
use crate::post::{Post, PostCommand, PostStream};
use crate::views::{NewPost, PostEdit};
use huddle_catalog::content::{post_stream, POST_ID_PREFIX};
use huddle_catalog::graph::Audience;
use huddle_domain::decider::{load, refused, Also, ExecuteError};
use huddle_domain::Execution;
use huddle_http::{is_prefixed_id, json_body, json_response, ApiError, Body, Request, Response};
use lambda_http::http::StatusCode;

impl ContentCommand {
    pub(crate) async fn create(
        &self,
        caller: &Caller,
        request: &Request,
    ) -> Result<Response<Body>, ApiError> {
        let NewPost { text, media_ids, audience, reply_to } = json_body(request)?;
        let audience = audience.unwrap_or(Audience::Followers);
        let mut problems = text_problems(&text);
        let malformed = media_id_problems(&media_ids);
        let well_formed = malformed.is_empty();
        problems.extend(malformed);
        // The parent: one the caller may see (else, like a missing one, 404), whose thread the
        // reply joins; the reply rests on its stream, so a deletion racing it is decided again.
        let parent = match &reply_to {
            Some(parent_id) if is_prefixed_id(parent_id, POST_ID_PREFIX) => {
                Some(self.visible(parent_id, caller).await?.ok_or_else(not_found)?)
            }
            Some(_) => return Err(not_found()),
            None => None,
        };
        let parent_post = parent.as_ref().and_then(|parent| parent.state.live());
        problems.extend(audience_problems(audience, parent_post.map(|post| post.audience)));
        // Media are read only once every id is one, each once, and at most ten.
        if well_formed {
            problems.extend(self.media_problems(&media_ids, caller).await?);
        }
        if !problems.is_empty() {
            return Err(ApiError::validation(problems));
        }
        self.counted(caller).await?;
        let annotations = self.annotations(&text, caller).await?;
        let post_id = format!("{POST_ID_PREFIX}{}", ulid::Ulid::new());
        let thread_id = parent_post.map_or_else(|| post_id.clone(), |post| post.thread_id.clone());
        let command = PostCommand::Create {
            author: caller.account.clone(),
            text,
            media_ids,
            audience,
            reply_to,
            thread_id,
            annotations,
        };
        // The first attempt rests on the parent as it was checked; one after a conflict (the
        // parent changed) reads it again: still there, or the reply is refused as to a missing post.
        let mut checked = parent.as_ref().map(|parent| parent.unchanged());
        let parent_stream = parent.as_ref().map(|parent| parent.stream.clone());
        let executed = Execution::<PostStream>::new(
            &self.events,
            post_stream(&post_id),
            command,
            caller.metadata.clone(),
        )
        .new_stream()
        .execute_with(|_, _| {
            let (first, stream) = (checked.take(), parent_stream.clone());
            async move {
                let writes = match (first, stream) {
                    (Some(first), _) => vec![first],
                    (None, Some(stream)) => {
                        let parent = load::<PostStream>(&self.events, stream).await?;
                        if parent.state.live().is_none() {
                            return Err(ExecuteError::Rejected(not_found()));
                        }
                        vec![parent.unchanged()]
                    }
                    (None, None) => vec![],
                };
                Ok::<_, ExecuteError<ApiError>>(Also { writes, keys: vec![] })
            }
        })
        .await
        .map_err(refused(&caller.request_id))?;
        let Post::Live(post) = executed.state else { return Err(not_found()) };
        let record = record_of(post, executed.started_at, None);
        let view = self.renderer.view(&post_id, record, &caller.account, &caller.request_id).await?;
        Ok(json_response(StatusCode::CREATED, &view))
    }

    pub(crate) async fn edit(
        &self,
        caller: &Caller,
        post_id: &str,
        request: &Request,
    ) -> Result<Response<Body>, ApiError> {
        let PostEdit { text } = json_body(request)?;
        let problems = text_problems(&text);
        if !problems.is_empty() {
            return Err(ApiError::validation(problems));
        }
        self.counted(caller).await?;
        let annotations = self.annotations(&text, caller).await?;
        let command = PostCommand::Edit { by: caller.account.clone(), text, annotations };
        let executed = Execution::<PostStream>::new(
            &self.events,
            post_stream(post_id),
            command,
            caller.metadata.clone(),
        )
        .execute::<ApiError>()
        .await
        .map_err(refused(&caller.request_id))?;
        let Post::Live(post) = executed.state else { return Err(not_found()) };
        let edited_at = executed.appended.and_then(|appended| appended.occurred_at);
        let record = record_of(post, executed.started_at, edited_at);
        let view = self.renderer.view(post_id, record, &caller.account, &caller.request_id).await?;
        Ok(json_response(StatusCode::OK, &view))
    }

    pub(crate) async fn delete(&self, caller: &Caller, post_id: &str) -> Result<(), ApiError> {
        let command = PostCommand::Delete { by: caller.account.clone() };
        Execution::<PostStream>::new(&self.events, post_stream(post_id), command, caller.metadata.clone())
            .execute::<ApiError>()
            .await
            .map_err(refused(&caller.request_id))?;
        Ok(())
    }
}
