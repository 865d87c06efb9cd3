//! `psg-bench`: the measures of `cargo xtask bench`. Run it through xtask,
//! which builds everything in release first.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod measures;
mod report;

#[derive(Parser)]
#[command(name = "psg-bench", about = "psg benchmarks (run through `cargo xtask bench`)")]
struct Args {
    /// A reduced run (under a minute) that checks the harness, not the targets.
    #[arg(long)]
    quick: bool,
    /// The psg binary to time.
    #[arg(long, default_value = "target/release/psg")]
    psg: PathBuf,
    /// Where to write report.json.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// Also write docs/benchmarks.md.
    #[arg(long)]
    docs: Option<PathBuf>,
    #[command(subcommand)]
    probe: Option<Probe>,
}

#[derive(Subcommand)]
enum Probe {
    /// Internal: stream every group from BASE_URL and print peak RSS in KiB.
    RssProbe {
        #[arg(long)]
        base_url: String,
        #[arg(long)]
        expect: usize,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if let Some(Probe::RssProbe { base_url, expect }) = args.probe {
        return match runtime.block_on(measures::rss_probe(&base_url, expect)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let sizes = if args.quick { measures::Sizes::quick() } else { measures::Sizes::full() };
    let mut all = Vec::new();
    runtime.block_on(async {
        eprintln!("measuring client overhead ...");
        all.push(measures::client_overhead(sizes).await);
        eprintln!("measuring emulator throughput ...");
        all.push(measures::emulator_throughput(sizes).await);
        eprintln!("measuring list-all under latency ...");
        all.push(measures::list_all_under_latency(sizes).await);
        eprintln!("measuring bulk create under the rate limit ...");
        all.extend(measures::bulk_create_under_rate_limit(sizes).await);
        eprintln!("measuring streaming memory ...");
        all.push(measures::streaming_memory(sizes).await);
    });
    all.push(measures::cli_start(sizes, &args.psg));
    drop(runtime);

    print!("{}", report::table(&all));
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let machine = report::machine();
    let json = serde_json::json!({"quick": args.quick, "date": date, "machine": machine, "measures": all});
    if let Err(e) = std::fs::create_dir_all(&args.out).and_then(|()| {
        std::fs::write(args.out.join("report.json"), serde_json::to_string_pretty(&json).unwrap())
    }) {
        eprintln!("error: cannot write {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    println!("wrote {}", args.out.join("report.json").display());
    if let Some(docs) = args.docs {
        let command = if args.quick { "cargo xtask bench --quick" } else { "cargo xtask bench" };
        if let Err(e) = std::fs::write(&docs, report::markdown(&all, &machine, &date, command)) {
            eprintln!("error: cannot write {}: {e}", docs.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", docs.display());
    }
    ExitCode::SUCCESS
}
