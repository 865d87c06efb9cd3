//! Why an apply stops starting changes: Ctrl-C or SIGTERM, a refused
//! credential, or a closed stdout. In every case the changes in flight are
//! finished and reported; only new ones are held back.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// Exit code after Ctrl-C (SIGINT).
pub const EXIT_INTERRUPTED: u8 = 130;
/// Exit code after SIGTERM (CI cancellation, `timeout`, systemd).
pub const EXIT_TERMINATED: u8 = 143;

/// A signal that asked psg to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT, Ctrl-C.
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl Signal {
    /// The exit code after this signal.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => EXIT_INTERRUPTED,
            Signal::Terminate => EXIT_TERMINATED,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Signal::Interrupt => "interrupted",
            Signal::Terminate => "terminated",
        }
    }
}

type Hook = Box<dyn Fn() + Send + Sync>;

/// Shared between the executor, the signal watchers and the output: once
/// stopped, no new change starts.
#[derive(Default)]
pub struct Stop {
    signal: Mutex<Option<Signal>>,
    halted: Mutex<Option<String>>,
    output_closed: AtomicBool,
    notify: Notify,
    hooks: Mutex<Vec<Hook>>,
}

impl Stop {
    /// Whether no new change may start.
    pub fn stopped(&self) -> bool {
        self.signal().is_some() || self.halt_reason().is_some() || self.output_closed()
    }

    /// The signal that stopped the run, if one did.
    pub fn signal(&self) -> Option<Signal> {
        *self.signal.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Why an answer stopped the run (a refused credential), if one did.
    pub fn halt_reason(&self) -> Option<String> {
        self.halted.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether stdout was closed under psg.
    pub fn output_closed(&self) -> bool {
        self.output_closed.load(Ordering::SeqCst)
    }

    /// Runs `hook` when the run stops (at once if it already has): e.g. to
    /// refuse requests still waiting for a rate-limit slot.
    pub fn on_stop(&self, hook: impl Fn() + Send + Sync + 'static) {
        if self.stopped() {
            hook();
        }
        self.hooks.lock().unwrap_or_else(|p| p.into_inner()).push(Box::new(hook));
    }

    fn stopping(&self) {
        for hook in self.hooks.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            hook();
        }
        self.notify.notify_waiters();
    }

    /// Records a signal (the first one wins).
    pub fn signalled(&self, signal: Signal) {
        self.signal.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(signal);
        self.stopping();
    }

    /// Stops the run for `reason` (the first reason wins).
    pub fn halt(&self, reason: String) {
        self.halted.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(reason);
        self.stopping();
    }

    /// Records that stdout was closed.
    pub fn close_output(&self) {
        self.output_closed.store(true, Ordering::SeqCst);
        self.stopping();
    }

    /// Sleeps for `delay`, unless the run stops first.
    pub async fn sleep(&self, delay: Duration) {
        let notified = self.notify.notified();
        if self.stopped() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = notified => {}
        }
    }
}

/// Watches SIGINT and SIGTERM: the first stops starting changes (the run
/// finishes what is in flight, prints its summary and exits 130 or 143); a
/// second of the same kind exits at once.
pub fn watch(stop: std::sync::Arc<Stop>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for (kind, which) in
            [(SignalKind::interrupt(), Signal::Interrupt), (SignalKind::terminate(), Signal::Terminate)]
        {
            let Ok(mut signals) = signal(kind) else { continue };
            let stop = stop.clone();
            tokio::spawn(async move {
                if signals.recv().await.is_some() {
                    eprintln!(
                        "{}: finishing the requests in flight, starting no new change (again to quit now)",
                        which.word()
                    );
                    stop.signalled(which);
                }
                if signals.recv().await.is_some() {
                    std::process::exit(i32::from(which.exit_code()));
                }
            });
        }
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "interrupted: finishing the requests in flight, starting no new change (again to quit now)"
            );
            stop.signalled(Signal::Interrupt);
        }
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    });
}

/// The closing sentence after a signal.
pub fn stopped_by(signal: Signal) -> &'static str {
    signal.word()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test(start_paused = true)]
    async fn a_stop_wakes_a_sleeper_and_runs_every_hook_once_per_stop() {
        let stop = Arc::new(Stop::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        stop.on_stop(move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
        let sleeper = {
            let stop = stop.clone();
            tokio::spawn(async move {
                let started = tokio::time::Instant::now();
                stop.sleep(Duration::from_secs(3600)).await;
                started.elapsed()
            })
        };
        tokio::task::yield_now().await;
        stop.signalled(Signal::Terminate);
        let slept = sleeper.await.unwrap();
        assert!(slept < Duration::from_secs(1), "woken by the stop, not the timer: {slept:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(stop.signal(), Some(Signal::Terminate));
        stop.signalled(Signal::Interrupt);
        assert_eq!(stop.signal(), Some(Signal::Terminate), "the first signal decides the exit code");
        assert_eq!(Signal::Terminate.exit_code(), 143);
    }

    #[test]
    fn a_hook_added_after_the_stop_runs_at_once() {
        let stop = Stop::default();
        stop.close_output();
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        stop.on_stop(move || r.store(true, Ordering::SeqCst));
        assert!(ran.load(Ordering::SeqCst) && stop.stopped());
    }
}
