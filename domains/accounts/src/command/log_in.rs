//! `POST /v1/sessions`: a token for the right password. Throttled per account (its username and
//! its address share one budget; an unknown login is counted as typed) and per source address;
//! an unknown login costs the same reads and the same hashing as a wrong password.

use super::{AccountsCommand, NO_ACCOUNT};
use crate::account::Reservation;
use crate::validation::{self, LoginRequest};
use huddle_catalog::accounts::username_stream;
use huddle_domain::decider::load;
use huddle_http::{json_body, request_id, ApiError, Body, Request, Response};
use lambda_http::http::StatusCode;

impl AccountsCommand {
    pub(super) async fn log_in(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let request_id = request_id(request);
        let (login, password) =
            validation::login(json_body::<LoginRequest>(request)?).map_err(ApiError::validation)?;
        // A login that is neither a username nor an address reads a stream no name has.
        let (reservation, login_name) = if login.contains('@') {
            match validation::email(&login) {
                Ok(address) => (self.lookup.email_stream(&address), address),
                Err(_) => (username_stream(""), login.trim().to_lowercase()),
            }
        } else {
            match validation::username(&login) {
                Ok(name) => (username_stream(&name), name),
                Err(_) => (username_stream(""), login.trim().to_lowercase()),
            }
        };
        let holder = load::<Reservation>(&self.events, reservation)
            .await
            .map_err(|e| ApiError::internal(&request_id, &e))?;
        let (account_id, guessed) = match holder.state {
            Reservation::Held { account_id } => (account_id.clone(), account_id),
            Reservation::Free => (NO_ACCOUNT.to_owned(), login_name),
        };
        let guess = self.guess(request, &guessed).await?;
        let loaded = self.load(&account_id, &request_id).await?;
        self.check_password(guess, password, loaded.active().ok(), &request_id).await?;
        self.signed_in(
            StatusCode::OK,
            &account_id,
            &loaded.account.state,
            loaded.created_at(),
            loaded.generation,
        )
    }
}
