//! [`Execution`]: a command run against a decider's stream, the one loop every use case shares.

use super::{load, Current, Decider, StreamError};
use huddle_eventstore::{
    AppendError, Appended, EventSchema, EventStore, Idempotency, KeyChange, Metadata, StreamWrite,
};
use huddle_http::ApiError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use time::OffsetDateTime;

/// How often an execution decides: once, and again after each of the first two conflicts. A
/// conflict means another writer changed a stream since it was loaded; deciding again on its
/// new state is right, but a stream that keeps changing answers the conflict instead.
pub const EXECUTE_ATTEMPTS: u32 = 3;

/// What a use case writes besides the decider's stream, in the same transaction: other streams
/// (uniqueness reservations, token generations) and data subjects' keys. A key this append
/// creates for the stream's own subject seals its events; one it shreds leaves no snapshot.
#[derive(Debug, Default)]
pub struct Also {
    pub writes: Vec<StreamWrite>,
    pub keys: Vec<KeyChange>,
}

/// Why a command was not executed.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError<R> {
    /// The decider, or the use case, refused it; nothing was appended.
    #[error("refused: {0}")]
    Rejected(R),
    /// A stream could not be read or written; a conflict here outlasted [`EXECUTE_ATTEMPTS`].
    #[error(transparent)]
    Stream(#[from] StreamError),
}

/// The HTTP answer to a command that was not executed: the use case's own refusal, 409 for a
/// conflict that outlasted the retries, 413 for an oversized event, else a logged 500.
pub fn refused(request_id: &str) -> impl Fn(ExecuteError<ApiError>) -> ApiError + '_ {
    move |error| match error {
        ExecuteError::Rejected(refusal) => refusal,
        ExecuteError::Stream(StreamError::Store(error)) => ApiError::from_append(error, request_id),
        ExecuteError::Stream(other) => ApiError::internal(request_id, &other),
    }
}

impl<R> From<AppendError> for ExecuteError<R> {
    fn from(error: AppendError) -> Self {
        Self::Stream(error.into())
    }
}

/// A command that was executed: the state it led to, for the use case's answer.
pub struct Executed<D: Decider> {
    /// The state after the command's events (when `appended` is a replay, the state this
    /// attempt would have written: the use case answers with the first result instead).
    pub state: D::State,
    /// When the stream began; for a new stream, when this append happened.
    pub started_at: Option<OffsetDateTime>,
    pub events: Vec<D::Event>,
    /// `None` when nothing was decided and nothing else written: nothing was appended.
    pub appended: Option<Appended>,
}

/// `command` on one stream of decider `D`: load it (from its snapshot), fold it, decide, and
/// append the events at the version it was loaded at, offering the new state as a snapshot, in
/// one transaction with the use case's other writes ([`Also`]). On a conflict it loads and
/// decides again, up to [`EXECUTE_ATTEMPTS`] times.
pub struct Execution<'s, D: Decider> {
    store: &'s EventStore,
    stream: String,
    command: D::Command,
    metadata: Metadata,
    idempotency: Option<Idempotency>,
    /// What the first attempt decides on instead of loading the stream.
    first: Option<Current<D>>,
    /// The stream is new (a fresh id): every attempt starts from no events.
    new_stream: bool,
}

impl<'s, D> Execution<'s, D>
where
    D: Decider,
    D::State: Serialize + DeserializeOwned,
    D::Command: Clone,
    D::Event: EventSchema + Clone,
{
    pub fn new(
        store: &'s EventStore,
        stream: impl Into<String>,
        command: D::Command,
        metadata: Metadata,
    ) -> Self {
        let stream = stream.into();
        Self { store, stream, command, metadata, idempotency: None, first: None, new_stream: false }
    }

    /// Append under this idempotency key (see [`EventStore::append_with_snapshots`]): a repeat
    /// answers with the first append (`replayed`, nothing written).
    pub fn idempotent(mut self, idempotency: Option<Idempotency>) -> Self {
        self.idempotency = idempotency;
        self
    }

    /// Decide first on `current`, the stream already loaded (to check a password against it,
    /// say), instead of loading it again.
    pub fn first_on(mut self, current: Current<D>) -> Self {
        debug_assert_eq!(current.stream, self.stream, "a state of another stream");
        self.first = Some(current);
        self
    }

    /// The stream has no events yet (its id was just made): nothing is read.
    pub fn new_stream(mut self) -> Self {
        self.new_stream = true;
        self
    }

    /// Execute the command with no other writes.
    pub async fn execute<R: From<D::Error>>(self) -> Result<Executed<D>, ExecuteError<R>> {
        self.execute_with(|_, _| async { Ok(Also::default()) }).await
    }

    /// Execute the command; each attempt calls `also` with the state it decided on and the
    /// events it decided, for what the use case writes with them (it may read other streams:
    /// [`load`], [`Current::write`]).
    pub async fn execute_with<R, F, Fut>(mut self, mut also: F) -> Result<Executed<D>, ExecuteError<R>>
    where
        R: From<D::Error>,
        F: FnMut(D::State, Vec<D::Event>) -> Fut,
        Fut: Future<Output = Result<Also, ExecuteError<R>>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let current = match self.first.take() {
                Some(current) => current,
                None if self.new_stream => Current::new(self.stream.clone()),
                None => load::<D>(self.store, self.stream.clone()).await?,
            };
            let events =
                current.decide(self.command.clone()).map_err(|e| ExecuteError::Rejected(e.into()))?;
            let Also { mut writes, keys } = also(current.state.clone(), events.clone()).await?;
            let state = events.iter().fold(current.state.clone(), D::evolve);
            let mut snapshots = Vec::new();
            if !events.is_empty() {
                let subject = D::data_subject(&current.stream);
                let created = keys.iter().find_map(|change| match change {
                    KeyChange::Create(key) if Some(key.subject()) == subject => Some(key),
                    _ => None,
                });
                let key = current.key().or(created);
                writes.insert(0, current.write_sealed(&events, key)?);
                let shredded = keys.iter().any(|change| {
                    matches!(change, KeyChange::Shred(shredded) if Some(shredded.as_str()) == subject)
                });
                // A snapshot sealed under a key that dies in this transaction could never open.
                if !shredded {
                    snapshots.extend(current.snapshot(&state, key));
                }
            }
            if writes.is_empty() && keys.is_empty() {
                return Ok(Executed { state, started_at: current.started_at, events, appended: None });
            }
            let appended = self
                .store
                .append_with_snapshots(writes, snapshots, keys, &self.metadata, self.idempotency.clone())
                .await;
            match appended {
                Ok(appended) => {
                    let started_at = current.started_at.or(appended.occurred_at);
                    return Ok(Executed { state, started_at, events, appended: Some(appended) });
                }
                Err(AppendError::Conflict { .. }) if attempt < EXECUTE_ATTEMPTS => continue,
                Err(error) => return Err(error.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_embedded::{Database, SqliteTable};
    use huddle_eventstore::{SnapshotPolicy, SubjectKey};
    use huddle_ports::{Condition, Key, Table};
    use serde::Deserialize;
    use std::cell::Cell;
    use std::sync::Arc;

    /// Credits to one owner's ledger, whose memos are the owner's personal data.
    struct Ledger;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::VariantNames)]
    #[serde(tag = "type", content = "data")]
    enum LedgerEvent {
        Credited { amount: u32, memo: String },
    }

    impl EventSchema for LedgerEvent {
        fn personal_fields(_event_type: &str) -> &'static [&'static str] {
            &["memo"]
        }
    }

    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    struct Balance {
        total: u32,
        memos: Vec<String>,
    }

    /// Credit `amount` (0 changes nothing).
    #[derive(Debug, Clone)]
    struct Credit(u32, &'static str);

    #[derive(Debug, PartialEq)]
    struct TooLarge;

    impl Decider for Ledger {
        type State = Balance;
        type Command = Credit;
        type Event = LedgerEvent;
        type Error = TooLarge;

        const SNAPSHOTS: Option<SnapshotPolicy> = Some(SnapshotPolicy { interval: 3, schema: 1 });

        fn decide(_balance: &Balance, Credit(amount, memo): Credit) -> Result<Vec<LedgerEvent>, TooLarge> {
            match amount {
                0 => Ok(vec![]),
                1..=1000 => Ok(vec![LedgerEvent::Credited { amount, memo: memo.into() }]),
                _ => Err(TooLarge),
            }
        }

        fn evolve(mut balance: Balance, LedgerEvent::Credited { amount, memo }: &LedgerEvent) -> Balance {
            balance.total += amount;
            balance.memos.push(memo.clone());
            balance
        }

        fn data_subject(stream: &str) -> Option<&str> {
            stream.strip_prefix("ledger#")
        }
    }

    const ANA: &str = "ledger#ana";

    fn store() -> (EventStore, Arc<dyn Table>) {
        let table: Arc<dyn Table> =
            Arc::new(SqliteTable::new(&Database::in_memory().unwrap(), "events", true));
        (EventStore::new(table.clone()), table)
    }

    fn credit<'s>(store: &'s EventStore, command: Credit) -> Execution<'s, Ledger> {
        Execution::new(store, ANA, command, Metadata::new("test"))
    }

    /// Ana's ledger, opened with its first credit and the key that seals it.
    async fn opened(store: &EventStore) {
        let key = SubjectKey::generate("ana");
        credit(store, Credit(1, "opening"))
            .new_stream()
            .execute_with(|_, _| {
                let key = key.clone();
                async move {
                    Ok::<_, ExecuteError<TooLarge>>(Also {
                        writes: vec![],
                        keys: vec![KeyChange::Create(key)],
                    })
                }
            })
            .await
            .unwrap();
    }

    fn conflicted(error: &ExecuteError<TooLarge>) -> bool {
        matches!(error, ExecuteError::Stream(StreamError::Store(AppendError::Conflict { .. })))
    }

    #[tokio::test]
    async fn a_command_is_decided_on_its_folded_stream_and_appended_sealed_at_its_version() {
        let (store, _) = store();
        opened(&store).await;
        let executed = credit(&store, Credit(5, "lunch")).execute::<TooLarge>().await.unwrap();
        assert_eq!(executed.state, Balance { total: 6, memos: vec!["opening".into(), "lunch".into()] });
        let committed = &executed.appended.as_ref().unwrap().streams[0];
        assert_eq!((committed.first_version, committed.last_version), (2, 2));

        let events = store.read_stream(ANA, 1..).await.unwrap();
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|event| !event.payload.to_string().contains("lunch")), "memos are sealed");
        let loaded = load::<Ledger>(&store, ANA).await.unwrap();
        assert_eq!((loaded.state, loaded.version), (executed.state, 2));
        assert_eq!(loaded.started_at, Some(events[0].occurred_at));
        assert_eq!(executed.started_at, loaded.started_at);
    }

    #[tokio::test]
    async fn a_refusal_or_a_command_that_changes_nothing_appends_nothing() {
        let (store, _) = store();
        opened(&store).await;
        let refused = credit(&store, Credit(5000, "car")).execute::<TooLarge>().await;
        assert!(matches!(refused, Err(ExecuteError::Rejected(TooLarge))));
        let unchanged = credit(&store, Credit(0, "nothing")).execute::<TooLarge>().await.unwrap();
        assert!(unchanged.appended.is_none());
        assert_eq!(unchanged.state.total, 1);
        assert_eq!(store.head(ANA).await.unwrap(), 1);
    }

    /// Runs `credit(10)` while a racing writer credits 1 before each of the first `races`
    /// attempts can append: how many attempts decided, and how it ended.
    async fn raced(
        store: &EventStore,
        races: u32,
    ) -> (u32, Result<Executed<Ledger>, ExecuteError<TooLarge>>) {
        let attempts = Cell::new(0);
        let executed = credit(store, Credit(10, "ours"))
            .execute_with(|_, _| {
                attempts.set(attempts.get() + 1);
                let racing = attempts.get() <= races;
                async move {
                    if racing {
                        credit(store, Credit(1, "racer")).execute::<TooLarge>().await?;
                    }
                    Ok(Also::default())
                }
            })
            .await;
        (attempts.get(), executed)
    }

    #[tokio::test]
    async fn a_conflict_is_decided_again_on_the_new_state_within_the_bound() {
        let (store, _) = store();
        opened(&store).await;
        let (attempts, executed) = raced(&store, EXECUTE_ATTEMPTS - 1).await;
        assert_eq!(attempts, EXECUTE_ATTEMPTS);
        let executed = executed.unwrap();
        let racers = EXECUTE_ATTEMPTS - 1;
        assert_eq!(executed.state.total, 1 + racers + 10, "decided on the racers' events");
        assert_eq!(load::<Ledger>(&store, ANA).await.unwrap().state, executed.state);
        assert_eq!(store.head(ANA).await.unwrap(), u64::from(1 + racers + 1));
    }

    #[tokio::test]
    async fn a_conflict_past_the_bound_is_answered_and_nothing_of_it_lands() {
        let (store, _) = store();
        opened(&store).await;
        let (attempts, executed) = raced(&store, EXECUTE_ATTEMPTS).await;
        assert_eq!(attempts, EXECUTE_ATTEMPTS);
        let error = executed.err().expect("a conflict");
        assert!(conflicted(&error), "{error:?}");
        let memos = load::<Ledger>(&store, ANA).await.unwrap().state.memos;
        assert!(!memos.contains(&"ours".to_owned()), "{memos:?}");
        assert_eq!(memos.len() as u32, 1 + EXECUTE_ATTEMPTS);
    }

    #[tokio::test]
    async fn the_stream_loads_from_its_sealed_snapshot_with_when_it_began() {
        let (store, table) = store();
        opened(&store).await;
        for amount in 2..=5 {
            credit(&store, Credit(amount, "again")).execute::<TooLarge>().await.unwrap();
        }
        let snapshot_key = Key::new(format!("snapshot#{ANA}"), "snapshot");
        let snapshot = table.get(&snapshot_key).await.unwrap().expect("a snapshot past the interval");
        assert_eq!(snapshot["version"].as_u64(), Some(3));
        assert!(snapshot.get("state").is_none() && snapshot["sealed"]["subject"] == "ana");
        let began = store.read_stream(ANA, 1..=1).await.unwrap()[0].occurred_at;

        // Without its first events, the stream still loads whole: from the snapshot.
        for version in ["000000000001", "000000000002"] {
            table.delete(&Key::new(ANA, version), Condition::Always).await.unwrap();
        }
        let loaded = load::<Ledger>(&store, ANA).await.unwrap();
        assert_eq!((loaded.state.total, loaded.version, loaded.started_at), (15, 5, Some(began)));
    }

    #[tokio::test]
    async fn an_idempotency_key_answers_its_first_append() {
        let (store, _) = store();
        opened(&store).await;
        let once = || Some(Idempotency { key: "credit-1".into(), receipt: None });
        let first = credit(&store, Credit(7, "once")).idempotent(once()).execute::<TooLarge>().await.unwrap();
        let again = credit(&store, Credit(7, "once")).idempotent(once()).execute::<TooLarge>().await.unwrap();
        assert!(!first.appended.unwrap().replayed && again.appended.unwrap().replayed);
        assert_eq!(store.head(ANA).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn shredding_the_subjects_key_leaves_no_snapshot_and_its_sealed_events_unread() {
        let (store, table) = store();
        opened(&store).await;
        credit(&store, Credit(2, "second")).execute::<TooLarge>().await.unwrap();
        credit(&store, Credit(3, "shredding"))
            .execute_with(|_, _| async {
                Ok::<_, ExecuteError<TooLarge>>(Also {
                    writes: vec![],
                    keys: vec![KeyChange::Shred("ana".into())],
                })
            })
            .await
            .unwrap();
        let snapshot_key = Key::new(format!("snapshot#{ANA}"), "snapshot");
        assert!(table.get(&snapshot_key).await.unwrap().is_none(), "the third event would have made one");
        let loaded = load::<Ledger>(&store, ANA).await.unwrap();
        assert_eq!((loaded.state, loaded.version), (Balance::default(), 3));
        let after = credit(&store, Credit(4, "after")).execute::<TooLarge>().await;
        assert!(matches!(after, Err(ExecuteError::Stream(StreamError::KeyGone { .. }))));
    }
}
