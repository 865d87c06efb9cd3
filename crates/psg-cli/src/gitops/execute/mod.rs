//! Carrying out a reviewed plan, and nothing else.
//!
//! - [`machine`]: where each reviewed change stands and how an answer or a
//!   read moves it (pure, tested without a network);
//! - [`driver`]: the loop that performs the reads and writes through any
//!   [`Tenant`](crate::gitops::tenant::Tenant);
//! - [`report`]: the lines, the summary and the `-o json` document;
//! - [`signals`]: Ctrl-C, SIGTERM, a refused credential, a closed stdout.
//!
//! This file wires them to the command line: the live tenant, the progress
//! bar, and where the lines go.

pub mod driver;
pub mod machine;
pub mod report;
pub mod signals;

#[cfg(test)]
mod model_tests;

use std::io::Write;
use std::sync::Arc;

use psg_ext::Client;

use crate::context::Context;
use crate::failure::Failure;
use crate::gitops::plan::{Action, Change, Plan};
use crate::gitops::tenant::Live;
use driver::{Settings, Sink};
use machine::{Machine, Outcome};
use report::Report;
use signals::Stop;

/// Changes applied at once.
pub const CONCURRENCY: usize = 4;
/// Rounds when `--rounds` is not given.
pub const DEFAULT_ROUNDS: u32 = 3;

/// The command line's [`Sink`]: each line on stdout as it is established
/// (stderr in `-o json` mode, whose stdout is the one document), beside a
/// progress bar; a closed stdout stops new changes and the rest of the
/// lines go to stderr.
struct Lines<'a> {
    out: &'a mut dyn Write,
    json: bool,
    stop: &'a Stop,
    bar: indicatif::ProgressBar,
}

impl Lines<'_> {
    fn emit(&mut self, line: &str) {
        if self.json || self.stop.output_closed() {
            self.bar.suspend(|| eprintln!("{line}"));
            return;
        }
        let out = &mut self.out;
        if self.bar.suspend(|| writeln!(out, "{line}").and_then(|()| out.flush())).is_err() {
            self.stop.close_output();
            eprintln!("{line}");
        }
    }
}

impl Sink for Lines<'_> {
    fn settled(&mut self, change: &Change, outcome: &Outcome) {
        self.bar.inc(1);
        if let Some(line) = report::line(change, outcome) {
            self.emit(&line);
        }
    }

    fn note(&mut self, text: &str) {
        tracing::info!(target: "psg_cli", "{text}");
    }
}

/// What happened, to print and to decide the exit code from.
pub struct Run {
    /// Every reviewed change and its outcome.
    pub machine: Machine,
    /// The counts.
    pub report: Report,
}

/// Applies exactly the reviewed changes of `plan`, printing each outcome
/// as it is established and the summary at the end (and the `-o json`
/// document when `json`); then says how the run ended.
pub async fn execute(
    ctx: &Context,
    client: &Client,
    plan: &Plan,
    rounds: u32,
    json: bool,
    out: &mut impl Write,
) -> Result<Run, Failure> {
    let stop = Arc::new(Stop::default());
    signals::watch(stop.clone());
    let gate = client.clone();
    stop.on_stop(move || gate.stop_new_requests());
    let bar = ctx.progress(plan.changes.len() as u64, "applying");
    let mut lines = Lines { out, json, stop: &stop, bar: bar.clone() };
    let settings = Settings { rounds, concurrency: CONCURRENCY };
    let machine = driver::run(&Live(client), plan.changes.clone(), settings, &stop, &mut lines).await;
    bar.finish_and_clear();
    let report = Report::of(&machine);
    lines.emit(&report.summary());
    if json && !stop.output_closed() {
        let doc = serde_json::to_string_pretty(&report::document(&machine)).expect("plain data");
        let out = &mut lines.out;
        if writeln!(out, "{doc}").and_then(|()| out.flush()).is_err() {
            stop.close_output();
        }
    }
    ended(&stop, &machine, &report)?;
    Ok(Run { machine, report })
}

/// `created "A" (1), deleted "B" (2)`: what was made, for a closing message.
fn made(machine: &Machine) -> String {
    let made: Vec<String> = machine
        .changes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match machine.outcome(i) {
            Some(Outcome::Applied { id, .. }) => {
                let verb = match c.action {
                    Action::Create => "created",
                    Action::Update => "updated",
                    Action::Delete => "deleted",
                };
                Some(format!("{verb} {:?} ({id})", c.name))
            }
            _ => None,
        })
        .collect();
    if made.is_empty() { "nothing".into() } else { made.join(", ") }
}

/// The failure a stopped run ends with, if it stopped.
fn ended(stop: &Stop, machine: &Machine, report: &Report) -> Result<(), Failure> {
    let tally = format!(
        "{} of {} change(s) done, {} not started",
        report.applied(),
        report.total,
        report.not_started
    );
    if let Some(reason) = stop.halt_reason() {
        return Err(Failure::api(format!("{reason}; stopped: {tally}")));
    }
    if let Some(signal) = stop.signal() {
        return Err(Failure {
            message: format!("{}: {tally}; run psg apply again to finish", signals::stopped_by(signal)),
            code: signal.exit_code(),
        });
    }
    if stop.output_closed() {
        return Err(Failure::api(format!(
            "stdout was closed: psg started no new change after that; {tally}; made: {}",
            made(machine)
        )));
    }
    Ok(())
}
