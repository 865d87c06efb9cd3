//! What a test reads back and steers: the requests the emulator answered, in
//! order, and faults scripted for the next API requests.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::faults::Fault;

/// How many answered requests [`EmulatorHandle::requests`](crate::EmulatorHandle::requests)
/// keeps; older ones are dropped (and counted by
/// [`EmulatorHandle::requests_dropped`](crate::EmulatorHandle::requests_dropped)).
pub const MAX_RECORDED_REQUESTS: usize = 10_000;

/// One request the emulator answered (or dropped by a `reset`/`lost` fault:
/// then `status` is what it would have sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeenRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path without the query, e.g. `/beta/password-sync-groups/abc`.
    pub path: String,
    /// The query string without `?`, if there was one.
    pub query: Option<String>,
    /// The status of the answer.
    pub status: u16,
    /// When the request arrived, counted from the emulator's start (tokio's
    /// clock: a paused test clock gives exact values).
    pub at: Duration,
}

impl SeenRequest {
    /// Whether this is an API call (not `/oauth/token` or `/__emulator/*`).
    pub fn is_api(&self) -> bool {
        !self.path.starts_with("/oauth/") && !self.path.starts_with("/__emulator/")
    }
}

/// The bounded record of answered requests.
#[derive(Debug)]
pub(crate) struct RequestLog {
    started: Instant,
    entries: VecDeque<SeenRequest>,
    dropped: u64,
}

impl RequestLog {
    pub(crate) fn new() -> Self {
        RequestLog { started: Instant::now(), entries: VecDeque::new(), dropped: 0 }
    }

    /// Time since the start, for a request arriving now.
    pub(crate) fn now(&self) -> Duration {
        self.started.elapsed()
    }

    pub(crate) fn push(&mut self, seen: SeenRequest) {
        if self.entries.len() == MAX_RECORDED_REQUESTS {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(seen);
    }

    pub(crate) fn snapshot(&self) -> Vec<SeenRequest> {
        self.entries.iter().cloned().collect()
    }

    /// Requests dropped from the front because the log was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.dropped = 0;
    }
}

/// Faults the next API requests get, in order, before the seeded ones; an
/// entry with a method waits for a request of that method.
#[derive(Debug, Default)]
pub(crate) struct Script {
    queue: Mutex<VecDeque<(Option<axum::http::Method>, Fault)>>,
}

impl Script {
    pub(crate) fn push(&self, method: Option<axum::http::Method>, fault: Fault) {
        self.queue.lock().expect("script lock").push_back((method, fault));
    }

    /// The scripted fault for a request of `method`: the first entry for
    /// any method or for this one, if one is left.
    pub(crate) fn next(&self, method: &axum::http::Method) -> Option<Fault> {
        let mut queue = self.queue.lock().expect("script lock");
        let at = queue.iter().position(|(m, _)| m.as_ref().is_none_or(|m| m == method))?;
        queue.remove(at).map(|(_, fault)| fault)
    }

    pub(crate) fn clear(&self) {
        self.queue.lock().expect("script lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(i: usize) -> SeenRequest {
        SeenRequest {
            method: "GET".into(),
            path: format!("/{i}"),
            query: None,
            status: 200,
            at: Duration::ZERO,
        }
    }

    #[test]
    fn the_log_keeps_the_newest_and_counts_the_dropped() {
        let mut log = RequestLog::new();
        for i in 0..MAX_RECORDED_REQUESTS + 3 {
            log.push(seen(i));
        }
        let all = log.snapshot();
        assert_eq!((all.len(), log.dropped()), (MAX_RECORDED_REQUESTS, 3));
        assert_eq!(all[0].path, "/3");
        log.clear();
        assert_eq!((log.snapshot().len(), log.dropped()), (0, 0));
    }

    #[test]
    fn scripted_faults_come_out_in_order_once() {
        let script = Script::default();
        let (get, put) = (axum::http::Method::GET, axum::http::Method::PUT);
        script.push(None, Fault::Status(503));
        script.push(Some(put.clone()), Fault::Lost);
        script.push(None, Fault::Reset);
        assert_eq!(script.next(&get), Some(Fault::Status(503)));
        // The PUT's entry waits for a PUT; the next GET gets the one after it.
        assert_eq!(script.next(&get), Some(Fault::Reset));
        assert_eq!(script.next(&get), None);
        assert_eq!(script.next(&put), Some(Fault::Lost));
        assert_eq!(script.next(&put), None);
    }
}
