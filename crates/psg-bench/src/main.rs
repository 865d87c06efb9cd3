//! `psg-bench`: the measures of `cargo xtask bench`. Run it through xtask,
//! which builds everything in release first.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod measures;
mod peers;
mod psg_loop;
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
    /// Compare with SailPoint's SDKs (needs --python and/or --node-dir).
    #[arg(long)]
    peers: bool,
    /// Only psg's measures whose name contains this (e.g. `overhead`); for
    /// checking one figure again without the docs.
    #[arg(long, conflicts_with = "docs")]
    only: Option<String>,
    /// Only the comparison with the SDKs, not psg's own measures.
    #[arg(long, requires = "peers", conflicts_with = "docs")]
    peers_only: bool,
    /// Python of a virtualenv holding PyPI sailpoint 1.4.2.
    #[arg(long)]
    python: Option<PathBuf>,
    /// Folder whose node_modules holds npm sailpoint-api-client.
    #[arg(long)]
    node_dir: Option<PathBuf>,
    /// Why the Python SDK is missing (without --python), for the report.
    #[arg(long, default_value = "python sailpoint 1.4.2 not given (--python)")]
    python_missing: String,
    /// Python of a virtualenv with sailpoint 2.x (`sailpoint.password_sync_groups`).
    #[arg(long)]
    python2: Option<PathBuf>,
    /// Why the 2.x Python SDK is missing (without --python2), for the report.
    #[arg(long, default_value = "python sailpoint 2.x not given (--python2)")]
    python2_missing: String,
    /// Why the TypeScript SDK is missing (without --node-dir), for the report.
    #[arg(long, default_value = "npm sailpoint-api-client not given (--node-dir)")]
    node_missing: String,
    /// Folder of peers.py and peers.js.
    #[arg(long, default_value = "bench")]
    peer_scripts: PathBuf,
    /// Build times recorded by hand, shown in docs/benchmarks.md.
    #[arg(long, default_value = "bench/build-times.json")]
    build_times: PathBuf,
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
    /// Internal: psg's timed loop of the peer comparison (`list`, `get` or
    /// `create`; environment PSG_BENCH_*), printing one JSON line.
    PeerLoop { measure: String },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    match args.probe {
        Some(Probe::RssProbe { base_url, expect }) => {
            return match runtime.block_on(measures::rss_probe(&base_url, expect)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Probe::PeerLoop { measure }) => {
            return match runtime.block_on(psg_loop::run(&measure)) {
                Ok(result) => {
                    println!("{}", serde_json::to_string(&result).expect("a loop result serializes"));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            };
        }
        None => {}
    }
    let builds = match report::read_build_times(&args.build_times) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sizes = if args.quick { measures::Sizes::quick() } else { measures::Sizes::full() };
    let mut all = Vec::new();
    let peers = args.peers.then(|| {
        let node = match &args.node_dir {
            Some(d) if peers::node_sdk_present(d) => Ok(d.clone()),
            Some(d) => Err(format!("no node_modules/sailpoint-api-client in {}", d.display())),
            None => Err(args.node_missing.clone()),
        };
        peers::PeerSetup {
            psg: args.psg.clone(),
            scripts: args.peer_scripts.clone(),
            python: args.python.clone().ok_or_else(|| args.python_missing.clone()),
            node,
            python2: args.python2.clone().ok_or_else(|| args.python2_missing.clone()),
        }
    });
    let peer_sizes = if args.quick { peers::PeerSizes::quick() } else { peers::PeerSizes::full() };
    let peer_report = peers.as_ref().map(|setup| runtime.block_on(peers::compare(setup, peer_sizes)));
    if !args.peers_only {
        let wanted = |name: &str| args.only.as_deref().is_none_or(|o| name.contains(o));
        runtime.block_on(async {
            if wanted("client overhead") {
                eprintln!("measuring client overhead ...");
                all.push(measures::client_overhead(sizes).await);
            }
            if wanted("emulator throughput") {
                eprintln!("measuring emulator throughput ...");
                all.push(measures::emulator_throughput(sizes).await);
            }
            if wanted("list-all under latency") {
                eprintln!("measuring list-all under latency ...");
                all.push(measures::list_all_under_latency(sizes).await);
            }
            if wanted("bulk create") {
                eprintln!("measuring bulk create under the rate limit ...");
                all.extend(measures::bulk_create_under_rate_limit(sizes).await);
            }
            if wanted("streaming memory") {
                eprintln!("measuring streaming memory ...");
                all.push(measures::streaming_memory(sizes).await);
            }
        });
        if wanted("CLI start") {
            all.push(measures::cli_start(sizes, &args.psg));
        }
    }
    drop(runtime);

    if !all.is_empty() {
        print!("{}", report::table(&all));
    }
    if let Some(p) = &peer_report {
        print!("{}", report::peer_table(p));
    }
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let machine = report::machine();
    let json = serde_json::json!({"quick": args.quick, "date": date, "machine": machine, "measures": all, "peers": peer_report, "builds": builds});
    if let Err(e) = std::fs::create_dir_all(&args.out).and_then(|()| {
        std::fs::write(args.out.join("report.json"), serde_json::to_string_pretty(&json).unwrap())
    }) {
        eprintln!("error: cannot write {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    println!("wrote {}", args.out.join("report.json").display());
    if let Some(docs) = args.docs {
        let command = if args.quick { "cargo xtask bench --quick" } else { "cargo xtask bench" };
        if let Err(e) = std::fs::write(
            &docs,
            report::markdown(&all, peer_report.as_ref(), &builds, &machine, &date, command),
        ) {
            eprintln!("error: cannot write {}: {e}", docs.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", docs.display());
    }
    ExitCode::SUCCESS
}
