//! Listing: one page with its total, or a stream over every page that
//! prefetches following pages concurrently and still yields in server order.
//! Each prefetch runs as a task of its own (so its answer is read while the
//! consumer works on earlier items, within its timeout), at most
//! `concurrency` at once; dropping the stream cancels them.
//!
//! # What offset paging can and cannot promise
//! The API pages by `offset`/`limit` over a listing that others may change
//! while we read it. A stream here promises:
//! * with `X-Total-Count`, it **ends at the first short or empty page**,
//!   whatever the total claims, so a lying total cannot make it send requests
//!   without end; **without** it, a short page may be a server-side cap, so it
//!   goes on until an empty page (or a page of repeats);
//! * ISC's `400 "Specified offset is invalid."` for an offset after the last
//!   page is **the end**, not an error;
//! * it **never yields an id twice** (an insert in front of the read
//!   position shifts items onto the next page; the repeat is dropped);
//! * when the server returns **fewer items than asked although the total says
//!   more remain** (a server-side page cap), it continues from the real
//!   offset with the smaller page size, so nothing is skipped silently;
//! * when the total **changes while paging**, it logs a `tracing` warning,
//!   and with [`ListGroups::fail_on_change`] ends with
//!   [`Error::ListingChanged`].
//!
//! It cannot promise a consistent snapshot: a group deleted in front of the
//! read position while paging shifts another one past it unseen. Only the
//! changed total tells; list again when that matters. The API does not
//! promise a stable order either; psg yields items in the order served.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, FuturesOrdered, StreamExt};

use crate::client::Client;
use crate::error::Error;
use crate::model::Group;

/// Largest page the API serves.
pub const MAX_PAGE_SIZE: u32 = 250;

/// One page of a listing (groups by default; also sources and policies).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T = Group> {
    /// The items, in server order.
    pub items: Vec<T>,
    /// Total number of groups (`X-Total-Count`), when the server sent it.
    pub total: Option<u64>,
    /// Offset of the first item.
    pub offset: u64,
    /// The page size asked for.
    pub limit: u32,
}

/// A list request; see [`Client::list_groups`].
#[derive(Debug, Clone)]
#[must_use = "call .page() or .stream()"]
pub struct ListGroups {
    client: Client,
    limit: u32,
    offset: u64,
    concurrency: usize,
    count: bool,
    fail_on_change: bool,
}

impl ListGroups {
    pub(crate) fn new(client: Client) -> Self {
        let concurrency = client.config().page_concurrency();
        ListGroups {
            client,
            limit: MAX_PAGE_SIZE,
            offset: 0,
            concurrency,
            count: true,
            fail_on_change: false,
        }
    }

    /// Page size, 0 to 250 (default 250; a stream needs at least 1).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// Items to skip (default 0).
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// Pages a stream fetches at once once the total is known (default from
    /// the client, 16; at least 1). The client's rate limit still applies.
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.concurrency = pages.clamp(1, crate::config::MAX_PAGE_CONCURRENCY);
        self
    }

    /// Whether [`ListGroups::page`] asks for the total (`count=true`, the
    /// default). Streams always ask.
    pub fn count(mut self, count: bool) -> Self {
        self.count = count;
        self
    }

    /// Whether a stream ends with [`Error::ListingChanged`] when the total
    /// changed while paging (default: a `tracing` warning only).
    pub fn fail_on_change(mut self, fail: bool) -> Self {
        self.fail_on_change = fail;
        self
    }

    fn check_limit(&self, min: u32) -> Result<(), Error> {
        if self.limit < min || self.limit > MAX_PAGE_SIZE {
            return Err(Error::invalid(
                "limit",
                format!("{} is outside {min}..={MAX_PAGE_SIZE}", self.limit),
            ));
        }
        Ok(())
    }

    /// One page (with its total unless `.count(false)`). An offset past the
    /// end is an empty page, also where ISC answers it with
    /// `400 "Specified offset is invalid."` (then without a total).
    pub async fn page(self) -> Result<Page, Error> {
        self.check_limit(0)?;
        let (items, total) = match self.client.fetch_page(self.limit, self.offset, self.count).await {
            Err(e) if self.offset > 0 && is_end_of_list_refusal(&e) => (Vec::new(), None),
            other => other?,
        };
        Ok(Page { items, total, offset: self.offset, limit: self.limit })
    }

    /// Every group from the offset on, in server order, each id once (see
    /// the module documentation for what paging can promise). The stream
    /// ends after the first error. At most `concurrency` pages are in memory.
    pub fn stream(self) -> BoxStream<'static, Result<Group, Error>> {
        if let Err(e) = self.check_limit(1) {
            return stream::once(async move { Err(e) }).boxed();
        }
        let client = self.client;
        let fetch: FetchPage<Group> = Arc::new(move |limit, offset| {
            let client = client.clone();
            Box::pin(async move { client.fetch_page(limit, offset, true).await })
        });
        pager_stream(Pager::new(
            fetch,
            |g: &Group| g.id.as_str(),
            self.limit,
            self.offset,
            self.concurrency,
            self.fail_on_change,
        ))
    }
}

/// Fetches one page: `(limit, offset)` to items and the total.
pub(crate) type FetchPage<T> =
    Arc<dyn Fn(u32, u64) -> BoxFuture<'static, Result<(Vec<T>, Option<u64>), Error>> + Send + Sync>;

/// A stream of every item a pager reaches.
pub(crate) fn pager_stream<T: Send + 'static>(pager: Pager<T>) -> BoxStream<'static, Result<T, Error>> {
    stream::unfold(pager, |mut pager| async move {
        let batch = pager.next_batch().await?;
        Some((batch, pager))
    })
    .flat_map(|batch| match batch {
        Ok(items) => stream::iter(items.into_iter().map(Ok)).boxed(),
        Err(e) => stream::once(async move { Err(e) }).boxed(),
    })
    .boxed()
}

/// A set of ids kept as two independent keyed 64-bit hashes. The keys are
/// random per stream, so a server cannot craft a collision; two distinct ids
/// share both hashes with probability about n² / 2¹²⁹.
#[derive(Default)]
struct SeenIds {
    keys: (RandomState, RandomState),
    set: HashSet<u128>,
}

impl SeenIds {
    /// Adds `id`; false when it was already there.
    fn insert(&mut self, id: &str) -> bool {
        let (a, b) = &self.keys;
        let key = (u128::from(a.hash_one(id)) << 64) | u128::from(b.hash_one(id));
        self.set.insert(key)
    }
}

/// ISC's text for an offset past the end of some lists (SailPoint's own
/// TypeScript paginator fails on it at exactly 250 items).
const OFFSET_INVALID: &str = "Specified offset is invalid";

/// Whether `e` is ISC's `400 "Specified offset is invalid."`.
fn is_end_of_list_refusal(e: &Error) -> bool {
    match e {
        Error::Api(a) if a.status == reqwest::StatusCode::BAD_REQUEST => {
            a.messages.iter().chain(&a.causes).any(|m| m.contains(OFFSET_INVALID))
        }
        Error::UnexpectedResponse { status, body_snippet, .. }
            if *status == reqwest::StatusCode::BAD_REQUEST =>
        {
            body_snippet.contains(OFFSET_INVALID)
        }
        _ => false,
    }
}

/// A page fetched by a task of its own; dropping it (the stream was dropped,
/// or speculative pages were discarded) cancels the task.
struct Prefetch<T>(tokio::task::JoinHandle<PageAnswer<T>>);

/// What one page fetch ends with: the items and the total the server
/// announced, if any.
type PageAnswer<T> = Result<(Vec<T>, Option<u64>), Error>;

impl<T> std::future::Future for Prefetch<T> {
    type Output = PageAnswer<T>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|joined| match joined {
            Ok(answer) => answer,
            // A fetch that panicked: let the panic go on in the consumer.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only dropping the handle aborts the task, so this is not reached.
            Err(_) => Err(Error::Stopped { operation: "list".into(), may_have_acted: false }),
        })
    }
}

impl<T> Drop for Prefetch<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One fetched page: where it started, how many it asked for, and the answer.
type PageResult<T> = (u64, u32, Result<(Vec<T>, Option<u64>), Error>);

/// The paging machine behind every stream (see the module documentation).
pub(crate) struct Pager<T> {
    fetch: FetchPage<T>,
    id_of: fn(&T) -> &str,
    page_size: u32,
    concurrency: usize,
    fail_on_change: bool,
    /// Offset of the next page to request.
    next_to_schedule: u64,
    first_total: Option<u64>,
    latest_total: Option<u64>,
    /// A total, other than the first, that some page reported: pages are
    /// fetched concurrently, so the last page's total alone can hide a
    /// change that a page in the middle saw.
    other_total: Option<u64>,
    inflight: FuturesOrdered<BoxFuture<'static, PageResult<T>>>,
    /// Ids already yielded, as 128-bit keyed hashes (16 bytes each instead
    /// of the id itself, so memory stays nearly flat in the listing's size).
    seen: SeenIds,
    started: bool,
    /// Whether some page was answered (a refused offset after it is the end).
    answered: bool,
    done: bool,
    /// An error to yield after the last items.
    pending: Option<Error>,
}

impl<T: Send + 'static> Pager<T> {
    pub(crate) fn new(
        fetch: FetchPage<T>,
        id_of: fn(&T) -> &str,
        page_size: u32,
        offset: u64,
        concurrency: usize,
        fail_on_change: bool,
    ) -> Self {
        Pager {
            fetch,
            id_of,
            page_size,
            concurrency: concurrency.max(1),
            fail_on_change,
            next_to_schedule: offset,
            first_total: None,
            latest_total: None,
            other_total: None,
            inflight: FuturesOrdered::new(),
            seen: SeenIds::default(),
            started: false,
            answered: false,
            done: false,
            pending: None,
        }
    }

    /// Starts fetching the page at `offset` as a task of its own, so it
    /// moves on (and its answer is read within its timeout) while the
    /// consumer is busy with earlier items; at most `concurrency` pages are
    /// in flight or waiting to be consumed.
    fn schedule(&mut self, offset: u64, size: u32) {
        let fetch = self.fetch.clone();
        let task = Prefetch(tokio::spawn(async move { fetch(size, offset).await }));
        self.inflight.push_back(Box::pin(async move { (offset, size, task.await) }));
        self.next_to_schedule = offset + u64::from(size);
    }

    /// Fills the pipeline: one page while the total is unknown, up to
    /// `concurrency` pages below the latest total once it is known.
    fn fill(&mut self) {
        let Some(total) = self.latest_total else {
            if self.inflight.is_empty() {
                self.schedule(self.next_to_schedule, self.page_size);
            }
            return;
        };
        while self.inflight.len() < self.concurrency && self.next_to_schedule < total {
            self.schedule(self.next_to_schedule, self.page_size);
        }
    }

    /// The next page's new items; `None` at the end.
    async fn next_batch(&mut self) -> Option<Result<Vec<T>, Error>> {
        if let Some(e) = self.pending.take() {
            return Some(Err(e));
        }
        if self.done {
            return None;
        }
        if !self.started {
            self.started = true;
            self.schedule(self.next_to_schedule, self.page_size);
        }
        let Some((offset, asked, result)) = self.inflight.next().await else {
            return self.finish();
        };
        let (items, total) = match result {
            Ok(page) => page,
            Err(e) if self.answered && is_end_of_list_refusal(&e) => {
                // ISC answers an offset at the end of some lists with this 400.
                tracing::debug!(offset, "the server refused the offset after the last page: the end");
                return self.finish();
            }
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        self.answered = true;
        if let Some(t) = total {
            if *self.first_total.get_or_insert(t) != t {
                self.other_total.get_or_insert(t);
            }
            self.latest_total = Some(t);
        }
        let got = items.len() as u64;
        let end = offset + got;
        let mut fresh = Vec::with_capacity(items.len());
        for item in items {
            let id = (self.id_of)(&item);
            if self.seen.insert(id) {
                fresh.push(item);
            } else {
                tracing::debug!(id, "dropped an id already yielded (the listing shifted)");
            }
        }
        if got == 0 {
            return self.finish();
        }
        if fresh.is_empty() && got >= u64::from(asked) {
            // A full page of repeats: the server is not moving forward.
            self.done = true;
            return Some(Err(Error::Decode {
                operation: "list",
                status: reqwest::StatusCode::OK,
                message: format!("the page at offset {offset} repeated only items already listed"),
                cause: None,
            }));
        }
        if got < u64::from(asked) {
            match self.latest_total {
                Some(t) if end < t => {
                    // A server-side cap: continue from the real offset with
                    // its page size; speculative pages were at wrong offsets.
                    tracing::debug!(
                        offset,
                        asked,
                        got,
                        "short page before the end: continuing from the real offset"
                    );
                    self.inflight = FuturesOrdered::new();
                    self.page_size = u32::try_from(got).unwrap_or(self.page_size).max(1);
                    self.next_to_schedule = end;
                }
                None if !fresh.is_empty() => {
                    // No total: a short page may be a server-side cap, so
                    // only an empty page (or one of repeats) is the end.
                    tracing::debug!(offset, asked, got, "short page without a total: asking for the next");
                    self.next_to_schedule = end;
                }
                _ => {
                    self.done = true;
                    return Some(self.deliver_last(fresh));
                }
            }
        }
        self.fill();
        if self.inflight.is_empty() {
            self.done = true;
            return Some(self.deliver_last(fresh));
        }
        Some(Ok(fresh))
    }

    /// The last page: checks whether the listing changed while paging (the
    /// error, if asked for, follows the items).
    fn deliver_last(&mut self, items: Vec<T>) -> Result<Vec<T>, Error> {
        if let Some(e) = self.changed().filter(|_| self.fail_on_change) {
            self.pending = Some(e);
        }
        Ok(items)
    }

    fn finish(&mut self) -> Option<Result<Vec<T>, Error>> {
        self.done = true;
        match self.changed() {
            Some(e) if self.fail_on_change => Some(Err(e)),
            _ => None,
        }
    }

    fn changed(&self) -> Option<Error> {
        let after = self.latest_total.filter(|t| Some(*t) != self.first_total).or(self.other_total);
        match (self.first_total, after) {
            (Some(before), Some(after)) if before != after => {
                tracing::warn!(
                    before,
                    after,
                    "the listing changed while paging; offset paging may have missed items"
                );
                Some(Error::ListingChanged { before, after })
            }
            _ => None,
        }
    }
}
