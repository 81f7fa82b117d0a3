//! What the appends of one scope wrote: the last version each stream reached. A host wraps a
//! request in [`recording_appends`] to learn, without the handler's help, which versions a
//! read must see to include the request's own writes (the consistency token). Appends outside
//! a scope record nothing.

use crate::CommittedStream;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;

/// Each stream an append wrote in the scope, with the newest version written to it.
pub type Written = BTreeMap<String, u64>;

tokio::task_local! {
    static WRITTEN: RefCell<Written>;
}

/// Runs `work`, and answers with what the event store's appends inside it committed (or, for
/// an idempotent repeat, what the first request committed: a read after the repeat must see
/// those writes as well).
pub async fn recording_appends<F: Future>(work: F) -> (F::Output, Written) {
    WRITTEN
        .scope(RefCell::new(Written::new()), async {
            let output = work.await;
            (output, WRITTEN.with(RefCell::take))
        })
        .await
}

pub(crate) fn record(streams: &[CommittedStream]) {
    // Outside a scope (projectors, the sweeper, tools) nobody asks.
    let _ = WRITTEN.try_with(|written| {
        let mut written = written.borrow_mut();
        for stream in streams.iter().filter(|stream| stream.last_version >= stream.first_version) {
            let newest = written.entry(stream.stream.clone()).or_default();
            *newest = (*newest).max(stream.last_version);
        }
    });
}
