//! `cargo xtask <task>`: project automation. Each task lives in its own module;
//! this file only parses the command line and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod compat;
mod dist;
mod generate;
mod merge;
mod peers;
mod readme_fixture;
mod record;
mod spec;
mod spec_diff;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "psg project automation")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Regenerate crates/psg-client/src/generated.rs from every fragment in openapi/ with progenitor.
    Generate {
        /// Do not write: exit 1 naming the file when the checked-in code is stale.
        #[arg(long)]
        check: bool,
    },
    /// Compare an upstream SailPoint spec (slice or whole spec) with the fragment holding its paths.
    ///
    /// Every fragment of openapi/ that defines some of the upstream paths is
    /// compared on those paths; servers (the /beta or /v3 base) are not.
    /// Prints one line per difference, classified `breaking:`, `additive:` or
    /// `deviation:` (declared in openapi/deviations.yaml). Exit 0 when only
    /// declared deviations differ, 1 when anything else differs, 2 when the
    /// input cannot be read.
    SpecDiff {
        /// Path of the upstream OpenAPI document (YAML or JSON).
        upstream: std::path::PathBuf,
    },
    /// Build in release and measure psg against the raw HTTP limit.
    ///
    /// Client overhead vs bare reqwest, emulator req/s, list-all under 50 ms
    /// latency vs its lower bound, 1,000 creates under a 100/1 s limit (time
    /// and 429s), streaming memory 100,000 vs 1,000 groups, `psg --version`
    /// start time; and beside SailPoint's Python and TypeScript SDKs (full run
    /// or --peers). Prints tables, writes target/bench/report.json and (full
    /// run) docs/benchmarks.md.
    Bench {
        /// Reduced sizes, under a minute, no targets asserted (CI smoke).
        #[arg(long)]
        quick: bool,
        /// Also time SailPoint's Python and TypeScript SDKs beside psg
        /// (installing them as `compat` does; with --quick only if installed).
        #[arg(long)]
        peers: bool,
    },
    /// Run SailPoint's official SDKs against the emulator.
    ///
    /// PyPI sailpoint 1.4.2 and 2.x, npm sailpoint-api-client: every operation, paging with
    /// count=true, each error status, a token round trip. Installs them into
    /// ignored folders under compat/.
    Compat,
    /// Write the installable files into target/dist/: psg, its man page and shell completions.
    ///
    /// Builds psg-cli in release (in the dev profile with --dev), then asks the
    /// binary for its man page (psg.1) and completions (completions/psg.bash,
    /// _psg, psg.fish, psg.elv, _psg.ps1).
    Dist {
        /// Build in the dev profile (faster; for checks, not for shipping).
        #[arg(long)]
        dev: bool,
    },
    /// Record contract fixtures against a fresh emulator or a live tenant.
    ///
    /// By default each exchange runs against a fresh emulator; with
    /// --base-url against a live tenant (credentials from SAIL_CLIENT_ID and
    /// SAIL_CLIENT_SECRET, catalog ids from PSG_RECORD_POLICIES and
    /// PSG_RECORD_SOURCES). Secrets and volatile values become placeholders;
    /// prints what changed compared with the checked-in fixtures. With
    /// --upstream DIR, derives the upstream-example fixtures from the
    /// reference specs in DIR instead (e.g. ../shared/reference).
    Record {
        /// Tenant root, e.g. `https://acme.api.identitynow.com`.
        #[arg(long)]
        base_url: Option<String>,
        /// Output directory. Default: crates/psg-contract/fixtures.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Derive fixtures from every example of the reference specs in this folder.
        #[arg(long, conflicts_with = "base_url")]
        upstream: Option<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.task {
        Task::Generate { check } => generate::run(check),
        Task::SpecDiff { upstream } => spec_diff::run(&upstream),
        Task::Record { base_url, out, upstream } => record::run(base_url, out, upstream),
        Task::Bench { quick, peers } => bench::run(quick, peers),
        Task::Compat => compat::run(),
        Task::Dist { dev } => dist::run(dev),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// `cargo xtask --help` shows each task's own summary.
    #[test]
    fn every_task_has_its_own_summary() {
        let cli = Cli::command();
        let about = |name: &str| {
            let task = cli.find_subcommand(name).unwrap_or_else(|| panic!("task {name}"));
            task.get_about().map(ToString::to_string).unwrap_or_default()
        };
        for (task, start) in [
            ("generate", "Regenerate"),
            ("spec-diff", "Compare an upstream"),
            ("record", "Record contract fixtures"),
            ("bench", "Build in release"),
            ("compat", "Run SailPoint's official SDKs"),
            ("dist", "Write the installable files"),
        ] {
            assert!(about(task).starts_with(start), "{task}: {:?}", about(task));
        }
        let mut help = Vec::new();
        Cli::command().write_long_help(&mut help).unwrap();
        let help = String::from_utf8(help).unwrap();
        let bench = help.lines().find(|l| l.trim_start().starts_with("bench")).unwrap_or_default();
        assert!(!bench.contains("Record"), "{bench}");
    }
}
