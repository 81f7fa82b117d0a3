//! The function of HttpApi's `$default` route: every request no route matches gets our JSON 404
//! (`huddle_http::NotFound`), as the runner answers it.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    huddle_http::init_logging();
    huddle_http::run_lambda(std::sync::Arc::new(huddle_http::NotFound)).await
}
