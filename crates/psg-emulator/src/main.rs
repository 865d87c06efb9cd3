//! `psg-emulator`: run the emulator in the foreground.

use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "psg-emulator",
    version,
    about = "A local ISC beta Password Sync Groups server for tests and demos"
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
