//! The graph Lambda: one binary for the command, query and projector roles (`HUDDLE_ROLE`).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    huddle_lambda::run_role(huddle_graph::GraphDomain).await
}
