//! `psg-emulator`: run the emulator in the foreground.

use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "psg-emulator",
    version,
    about = "A local ISC Password Sync Groups server (beta, v3, v2024-v2026; with v3 sources and password policies) for tests and demos",
    long_about = "A local ISC Password Sync Groups server for tests and demos.\n\n\
        Serves /{beta,v3,v2024,v2025,v2026}/password-sync-groups, /password-sync-groups/v1, and\n\
        GET /{version}/sources[/{id}] (filters: eq, in, sw, co on name and id; ca on features; joined by and)\n\
        and GET /{version}/password-policies[/{id}]. Prints `listening on http://HOST:PORT` first;\n\
        stops on SIGINT/SIGTERM. Invalid options exit 2."
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
