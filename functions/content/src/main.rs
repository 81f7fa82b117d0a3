//! The content Lambda: one binary for the command, query, projector and operator roles
//! (`HUDDLE_ROLE`).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    huddle_lambda::run_role(huddle_content::ContentDomain).await
}
