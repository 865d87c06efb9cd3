//! Listing: one page with its total, or a stream over every page that
//! prefetches following pages concurrently and still yields in server order.

use futures::stream::{self, BoxStream, StreamExt};
use psg_client::types::PasswordSyncGroup;

use crate::client::Client;
use crate::error::Error;

/// Largest page the API serves.
pub const MAX_PAGE_SIZE: u32 = 250;

/// One page of groups.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The groups, in server order.
    pub items: Vec<PasswordSyncGroup>,
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
}

impl ListGroups {
    pub(crate) fn new(client: Client) -> Self {
        let concurrency = client.config().page_concurrency;
        ListGroups { client, limit: MAX_PAGE_SIZE, offset: 0, concurrency, count: true }
    }

    /// Page size, 0 to 250 (default 250).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// Items to skip (default 0).
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// Pages a stream fetches at once (default from the client, 4).
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.concurrency = pages.max(1);
        self
    }

    /// Whether [`ListGroups::page`] asks for the total (`count=true`, the
    /// default). ISC notes that counting costs the server something: turn it
    /// off when `Page::total` is not needed. Streams always ask once.
    pub fn count(mut self, count: bool) -> Self {
        self.count = count;
        self
    }

    fn check_limit(&self, min: u32) -> Result<(), Error> {
        if self.limit < min || self.limit > MAX_PAGE_SIZE {
            return Err(Error::InvalidInput {
                field: "limit",
                message: format!("{} is outside {min}..={MAX_PAGE_SIZE}", self.limit),
            });
        }
        Ok(())
    }

    /// One page (with its total unless `.count(false)`). An offset past the
    /// end is an empty page.
    pub async fn page(self) -> Result<Page, Error> {
        self.check_limit(0)?;
        let (items, total) = self.client.fetch_page(self.limit, self.offset, self.count).await?;
        Ok(Page { items, total, offset: self.offset, limit: self.limit })
    }

    /// Every group from the offset on, in server order, each exactly once.
    ///
    /// The first page asks for the total; when the server gives it, the
    /// remaining pages are fetched up to `concurrency` at a time (each with
    /// its own retries) and yielded in order. Without a total, pages are read
    /// one after another until a short page. The stream ends after the first
    /// error. At most `concurrency` pages are held in memory.
    pub fn stream(self) -> BoxStream<'static, Result<PasswordSyncGroup, Error>> {
        if let Err(e) = self.check_limit(1) {
            return stream::once(async move { Err(e) }).boxed();
        }
        let ListGroups { client, limit, offset, concurrency, .. } = self;
        let first = {
            let client = client.clone();
            async move { client.fetch_page(limit, offset, true).await }
        };
        let pages = stream::once(first)
            .map(move |first| -> BoxStream<'static, Result<Vec<PasswordSyncGroup>, Error>> {
                let (items, total) = match first {
                    Ok(page) => page,
                    Err(e) => return stream::once(async move { Err(e) }).boxed(),
                };
                let full = items.len() as u64 >= u64::from(limit);
                let head = stream::once(async move { Ok(items) });
                let next = offset + u64::from(limit);
                let client = client.clone();
                match total {
                    Some(total) => {
                        let offsets = (next..total).step_by(limit as usize);
                        let rest =
                                stream::iter(offsets)
                                    .map(move |o| {
                                        let client = client.clone();
                                        async move {
                                            client.fetch_page(limit, o, false).await.map(|(items, _)| items)
                                        }
                                    })
                                    .buffered(concurrency);
                        head.chain(rest).boxed()
                    }
                    None if !full => head.boxed(),
                    None => {
                        let rest = stream::unfold(Some(next), move |at| {
                            let client = client.clone();
                            async move {
                                let at = at?;
                                match client.fetch_page(limit, at, false).await {
                                    Ok((items, _)) => {
                                        let more = items.len() as u64 >= u64::from(limit);
                                        Some((Ok(items), more.then_some(at + u64::from(limit))))
                                    }
                                    Err(e) => Some((Err(e), None)),
                                }
                            }
                        })
                        .filter(|page| {
                            futures::future::ready(!matches!(page, Ok(items) if items.is_empty()))
                        });
                        head.chain(rest).boxed()
                    }
                }
            })
            .flatten();
        pages
            .scan(false, |failed, page| {
                let out = if *failed {
                    None
                } else {
                    *failed = page.is_err();
                    Some(page)
                };
                futures::future::ready(out)
            })
            .flat_map(|page| match page {
                Ok(items) => stream::iter(items.into_iter().map(Ok)).boxed(),
                Err(e) => stream::once(async move { Err(e) }).boxed(),
            })
            .boxed()
    }
}
