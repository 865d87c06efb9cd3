//! `cargo xtask <task>`: project automation. Each task lives in its own module;
//! this file only parses the command line and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod generate;
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
    /// Regenerate crates/psg-client/src/generated.rs from openapi/ with progenitor.
    Generate {
        /// Do not write: exit 1 naming the file when the checked-in code is stale.
        #[arg(long)]
        check: bool,
    },
    /// Compare an upstream SailPoint spec (slice or whole beta spec) with our fragment.
    ///
    /// Prints one line per difference, classified `breaking:`, `additive:` or
    /// `deviation:` (declared in openapi/deviations.yaml). Exit 0 when only
    /// declared deviations differ, 1 when anything else differs, 2 when the
    /// input cannot be read.
    SpecDiff {
        /// Path of the upstream OpenAPI document (YAML or JSON).
        upstream: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.task {
        Task::Generate { check } => generate::run(check),
        Task::SpecDiff { upstream } => spec_diff::run(&upstream),
    }
}
