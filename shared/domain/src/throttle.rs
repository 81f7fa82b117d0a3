//! Fixed-window counters that throttle guessing (failed logins, sign-ups) across every instance
//! of a function: one item per subject and window, changed by atomic adds, swept by TTL.
//!
//! A window is aligned to the Unix epoch, so all instances agree on it without talking to each
//! other. At a window's edge a client can spend up to twice the limit in a short burst; that is
//! the price of one read and one write per attempt, and still bounds guessing to the limit per
//! window on average.

use huddle_ports::{Key, Table, TableError};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// At most `max` counted attempts per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

impl Limit {
    pub const fn new(max: u32, window_seconds: u64) -> Self {
        Self { max, window: Duration::from_secs(window_seconds) }
    }
}

/// Written as it is read: `25/300`.
impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.max, self.window.as_secs())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a limit is written as MAX/SECONDS with both positive, such as 25/300, not {0:?}")]
pub struct LimitSyntax(String);

/// `25/300`: 25 per 300 seconds.
impl FromStr for Limit {
    type Err = LimitSyntax;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || LimitSyntax(text.to_owned());
        let (max, seconds) = text.trim().split_once('/').ok_or_else(invalid)?;
        let max: u32 = max.trim().parse().map_err(|_| invalid())?;
        let seconds: u64 = seconds.trim().parse().map_err(|_| invalid())?;
        if max == 0 || seconds == 0 {
            return Err(invalid());
        }
        Ok(Limit::new(max, seconds))
    }
}

/// The limit is reached: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

/// One kind of attempt (`scope`, such as `login-ip`) under one limit.
#[derive(Clone)]
pub struct Throttle {
    counters: Arc<dyn Table>,
    scope: &'static str,
    limit: Limit,
}

/// Counter items are `throttle#<scope>#<subject>` / `<window start>`.
pub const THROTTLE_PREFIX: &str = "throttle#";
const COUNT: &str = "count";

struct Window {
    key: Key,
    /// Unix seconds.
    end: i64,
}

impl Throttle {
    pub fn new(counters: Arc<dyn Table>, scope: &'static str, limit: Limit) -> Self {
        Self { counters, scope, limit }
    }

    /// `subject` names who is counted and lands in the table as it is: pass a keyed hash of
    /// anything personal (an address, a login name), never the value itself.
    fn window(&self, subject: &str) -> Window {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let length = self.limit.window.as_secs().max(1) as i64;
        let start = now - now.rem_euclid(length);
        Window {
            key: Key::new(format!("{THROTTLE_PREFIX}{}#{subject}", self.scope), start.to_string()),
            end: start + length,
        }
    }

    fn throttled(window: &Window) -> Throttled {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        Throttled { retry_after: Duration::from_secs((window.end - now).max(1) as u64) }
    }

    /// Counts one attempt of `subject` and refuses it when it goes over the limit, before the
    /// attempt costs anything. One atomic write, so racing attempts cannot all slip under the
    /// limit, as they could between a read and a later write. The ticket gives the attempt back
    /// when it turns out not to count (a login that succeeds).
    pub async fn take(&self, subject: &str) -> Result<Result<Ticket, Throttled>, TableError> {
        let window = self.window(subject);
        // Kept a window past its end, for clocks that run a little behind.
        let expires_at = window.end + self.limit.window.as_secs() as i64;
        let count = self.counters.add_expiring(&window.key, COUNT, 1, expires_at).await?;
        Ok(if count > i64::from(self.limit.max) {
            Err(Self::throttled(&window))
        } else {
            Ok(Ticket { key: window.key, expires_at })
        })
    }

    /// Gives a taken attempt back to its window.
    pub async fn refund(&self, ticket: Ticket) -> Result<(), TableError> {
        self.counters.add_expiring(&ticket.key, COUNT, -1, ticket.expires_at).await.map(drop)
    }
}

/// An attempt counted by [`Throttle::take`].
#[derive(Debug)]
pub struct Ticket {
    key: Key,
    expires_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_max_per_seconds() {
        assert_eq!("25/300".parse(), Ok(Limit::new(25, 300)));
        assert_eq!(" 5 / 1800 ".parse(), Ok(Limit::new(5, 1800)));
        assert_eq!(Limit::new(25, 300).to_string(), "25/300");
        for bad in ["25", "0/300", "25/0", "-1/300", "a/b", ""] {
            assert!(bad.parse::<Limit>().is_err(), "{bad}");
        }
    }
}
