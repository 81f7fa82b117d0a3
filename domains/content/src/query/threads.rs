//! Video threads as the caller may see them: one with a page of its entries (oldest first; an
//! entry shows only when its entrant is not blocked either way with the caller, nor erased), and
//! an account's threads (newest first).

use super::{no_thread, Viewer};
use crate::read_model::{entry_key, may_join, may_see_each, thread_key, EntryRecord, List, ThreadRecord};
use crate::thread;
use crate::views::{ThreadList, ThreadPage};
use huddle_catalog::content::JoinableBy;
use huddle_catalog::graph::Audience;
use huddle_http::{ApiError, Request};
use huddle_ports::get_all;

impl Viewer<'_> {
    async fn thread_record(&self, thread_id: &str) -> Result<Option<ThreadRecord>, ApiError> {
        let item = self.query.read_model.get(&thread_key(thread_id)).await.map_err(self.failed())?;
        item.as_ref().map(ThreadRecord::of).transpose().map_err(self.failed())
    }

    /// The records of `entry_ids`, in their order (a removed entry's is `None`), read in batches.
    async fn entry_records(&self, entry_ids: &[&str]) -> Result<Vec<Option<EntryRecord>>, ApiError> {
        let keys: Vec<_> = entry_ids.iter().map(|id| entry_key(id)).collect();
        let items = get_all(self.query.read_model.as_ref(), &keys).await.map_err(self.failed())?;
        items
            .iter()
            .map(|item| item.as_ref().map(EntryRecord::of).transpose().map_err(self.failed()))
            .collect()
    }

    /// `GET /v1/threads/{id}`: the thread if the viewer may see it (else 404, as a missing one),
    /// with the page `?limit=&cursor=` asks for of its entries.
    pub(super) async fn thread_page(
        &self,
        request: &Request,
        thread_id: &str,
    ) -> Result<ThreadPage, ApiError> {
        let record = self.thread_record(thread_id).await?.ok_or_else(no_thread)?;
        if !self.may_see(&record.owner, record.audience).await? {
            return Err(no_thread());
        }
        let query = self.query;
        let joins = may_join(&query.graph, &self.account, &record.owner, record.joinable_by);
        let (may_join, (entries, next_cursor)) = tokio::try_join!(
            async { joins.await.map_err(self.failed()) },
            self.visible_entries(request, List::Entries { thread: thread_id }),
        )?;
        // An entrant in a block with the thread's owner (either way) is out of the thread for
        // everyone: the owner could neither see nor remove its entries, shown to the owner's
        // audience (a block placed after the join, or racing it).
        let entrants: Vec<(&str, Audience)> =
            entries.iter().map(|entry| (entry.author.as_str(), Audience::Public)).collect();
        let with_owner = may_see_each(query.read_model.as_ref(), &query.graph, &record.owner, &entrants);
        let with_owner = with_owner.await.map_err(self.failed())?;
        let entries: Vec<_> =
            entries.into_iter().zip(with_owner).filter(|(_, kept)| *kept).map(|(entry, _)| entry).collect();
        // Removed since the list entry was read: left out.
        let ids: Vec<&str> = entries.iter().map(|entry| entry.id.as_str()).collect();
        let records = self.entry_records(&ids).await?;
        let shown: Vec<(String, EntryRecord)> =
            ids.iter().zip(records).filter_map(|(id, record)| Some((id.to_string(), record?))).collect();
        let (thread, entries) = tokio::try_join!(
            query.renderer.thread_view(thread_id, record, may_join, &self.request_id),
            query.renderer.entry_views(shown, &self.account, &self.request_id),
        )?;
        Ok(ThreadPage { thread, entries, next_cursor })
    }

    /// `GET /v1/accounts/{id}/threads`: the page of the owner's threads that the viewer may see.
    pub(super) async fn threads(&self, request: &Request, owner: &str) -> Result<ThreadList, ApiError> {
        let (entries, next_cursor) = self.visible_entries(request, List::ThreadsBy { owner }).await?;
        let ids: Vec<&str> = entries.iter().map(|entry| entry.id.as_str()).collect();
        let keys: Vec<_> = ids.iter().map(|id| thread_key(id)).collect();
        let items = get_all(self.query.read_model.as_ref(), &keys).await.map_err(self.failed())?;
        // Deleted since the list entry was read: left out.
        let records: Vec<(&str, ThreadRecord)> = ids
            .iter()
            .zip(items)
            .filter_map(|(id, item)| Some(ThreadRecord::of(&item?).map(|record| (*id, record))))
            .collect::<Result<_, _>>()
            .map_err(self.failed())?;
        // One owner: whether the viewer follows it is read once, and only if a thread asks.
        let asks = records.iter().any(|(_, record)| record.joinable_by == JoinableBy::Followers);
        let follows = if asks && self.account != owner {
            self.query.graph.standing(&self.account, owner).await.map_err(self.failed())?.follows
        } else {
            false
        };
        let threads = records.into_iter().map(|(id, record)| {
            let may_join = thread::may_join(&self.account, owner, record.joinable_by, follows);
            (id.to_owned(), record, may_join)
        });
        let items = self.query.renderer.thread_views(threads.collect(), &self.request_id).await?;
        Ok(ThreadList { items, next_cursor })
    }
}
