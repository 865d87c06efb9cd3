//! `psg-emulator`: run the emulator in the foreground.

use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "psg-emulator",
    version,
    about = "A local ISC Password Sync Groups server (beta, v3, v2024-v2026 and per-service v1; with sources and password policies) for tests and demos",
    long_about = "A local ISC Password Sync Groups server for tests and demos.\n\n\
        Serves /{beta,v3,v2024,v2025,v2026}/password-sync-groups[/{id}], GET /{version}/sources[/{id}]\n\
        (filters: eq, in, sw, co on name and id; ca on features; and, or, not, parentheses) and\n\
        GET /{version}/password-policies[/{id}]; and the per-service layout /password-sync-groups/v1,\n\
        /sources/v1, /password-policies/v1. Policies of v2024-v2026 and v1 need the header\n\
        X-SailPoint-Experimental: true. --api-versions serves only some versions.\n\
        Prints `listening on http://HOST:PORT` first; stops on SIGINT/SIGTERM. Invalid options exit 2."
)]
struct Cli {
    #[command(flatten)]
    args: psg_emulator::EmulatorArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour only on a terminal: logs captured to a file stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match psg_emulator::run_foreground(cli.args.into_config()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
