//! The media Lambda: one binary for the command, query, projector, operator and uploads roles
//! (`HUDDLE_ROLE`).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    huddle_lambda::run_role(huddle_media::MediaDomain).await
}
