//! Records the contract fixtures; run through `cargo xtask record`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use psg_contract::record::{Target, record_all};

/// Record contract fixtures against the emulator (default) or a tenant.
#[derive(Parser)]
#[command(name = "psg-record")]
struct Args {
    /// Tenant root to record against (needs SAIL_CLIENT_ID, SAIL_CLIENT_SECRET,
    /// PSG_RECORD_POLICIES, PSG_RECORD_SOURCES). Default: a fresh emulator per exchange.
    #[arg(long)]
    base_url: Option<String>,
    /// Derive the upstream-example fixtures from the reference specs in this
    /// folder (e.g. ../shared/reference) instead of recording.
    #[arg(long, conflicts_with = "base_url")]
    upstream: Option<PathBuf>,
    /// Where to write fixtures. Default: crates/psg-contract/fixtures.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let out = args.out.clone().unwrap_or_else(psg_contract::fixture::fixture_dir);
    if let Some(references) = &args.upstream {
        return match psg_contract::record::record_upstream(references, &out) {
            Ok(summary) => {
                print!("{summary}");
                println!("fixtures derived from {} in {}", references.display(), out.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let target = match args.base_url {
        Some(base_url) => Target::Tenant { base_url: base_url.trim_end_matches('/').to_string() },
        None => Target::Emulator,
    };
    match record_all(&target, &out).await {
        Ok(summary) => {
            print!("{summary}");
            println!("fixtures in {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
