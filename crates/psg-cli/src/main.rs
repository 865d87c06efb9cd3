//! `psg`: the command line. Parses, sets up logging, dispatches, maps
//! failures to one line on stderr and an exit code.

use std::io::Write;
use std::process::ExitCode;

mod apply;
mod auth_cmd;
mod catalog_cmd;
mod cli;
mod context;
mod delete_cmd;
mod demo;
mod export_cmd;
mod failure;
mod flags;
mod gitops;
mod groups_cmd;
mod names;
mod output;
mod refs;
mod settle;
mod stdio;
mod table;
mod version;

/// build.rs's commit lookup, for its tests.
#[cfg(test)]
#[path = "../build_commit.rs"]
#[allow(dead_code)] // watched() is for build.rs only
mod build_commit;

use cli::{Cli, Command};
use context::Context;
use failure::{EXIT_API, EXIT_USAGE, Failure};

fn init_tracing(verbose: u8) {
    let default = match verbose {
        // Silent: psg prints its own one-line error; a library's log line
        // (rustls' "failed to verify TLS certificate", ...) would only repeat it raw.
        0 => "off",
        // -v: one line per HTTP request; -vv: retries, waits, token events.
        1 => "psg=info,psg_ext=info,psg_cli=info,psg_emulator=info,warn",
        _ => "psg=debug,psg_ext=debug,psg_cli=debug,psg_emulator=debug,info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PSG_LOG").unwrap_or_else(|_| default.into());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_target(false)
        // Escapes only for a terminal: logs to a file or pipe stay plain.
        .with_ansi(output::color_stderr())
        .init();
}

/// Runs the command; `Ok` carries the exit code.
async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let ctx = Context::new(cli.global.clone());
    let writes = changes_the_tenant(&cli.command);
    run_in(&ctx, cli).await.map_err(|f| {
        // A closed pipe ends a read quietly, but a command that changes the
        // tenant must not look successful when it stopped early.
        if writes && f.is_closed_pipe() {
            return Failure::api(
                "stdout was closed before psg finished; changes after the last one printed were not made (psg plan shows what remains)",
            );
        }
        f
    })
}

/// Whether `command` writes to the tenant.
fn changes_the_tenant(command: &Command) -> bool {
    matches!(
        command,
        Command::Apply(_)
            | Command::Groups(
                cli::GroupsCommand::Create { .. }
                    | cli::GroupsCommand::Update { .. }
                    | cli::GroupsCommand::Delete { .. }
            )
    )
}

async fn run_in(ctx: &Context, cli: Cli) -> Result<ExitCode, Failure> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Command::Groups(command) => groups_cmd::run(ctx, command, &mut out).await?,
        Command::Policies(command) => catalog_cmd::policies(ctx, command, &mut out).await?,
        Command::Sources(command) => catalog_cmd::sources(ctx, command, &mut out).await?,
        Command::Export { file, portable, schema_ref } => {
            let file = file.filter(|f| !stdio::is_dash(f));
            let format = export_cmd::format(ctx.global.output)?;
            let schema_ref = gitops::schema::reference(&schema_ref)?;
            export_cmd::run(&ctx.client()?, file.as_deref(), portable, format, &schema_ref, &mut out).await?;
            if let Some(path) = file {
                eprintln!("wrote {}", path.display());
            }
        }
        Command::Schema { out: file } => {
            match gitops::schema::format(ctx.global.output).map(|()| file.filter(|f| !stdio::is_dash(f)))? {
                Some(path) => {
                    gitops::planfile::write_atomically(&path, &gitops::schema::text())?;
                    eprintln!("wrote {}", path.display());
                }
                None => write!(out, "{}", gitops::schema::text())?,
            }
        }
        Command::Plan(args) => {
            let changes = apply::run_plan(ctx, &ctx.client()?, &args, &mut out).await?;
            out.flush()?;
            if args.detailed_exitcode && changes {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Apply(args) => {
            let done = apply::run_apply(ctx, &ctx.client()?, &args, &mut out).await?;
            out.flush()?;
            if args.detailed_exitcode && done > 0 {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Auth(cli::AuthCommand::Status) => {
            drop(out);
            return auth_cmd::status(ctx, &mut std::io::stdout().lock()).await;
        }
        Command::Emulator(args) => {
            // run_foreground prints its own first line on stdout.
            drop(out);
            psg_emulator::run_foreground(args.into_config())
                .await
                .map_err(|e| Failure::usage(format!("emulator: {e}")))?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Demo => demo::run(&cli.global, &mut out).await?,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut flags::completion_command(), "psg", &mut out);
        }
        Command::Man => clap_mangen::Man::new(flags::completion_command()).render(&mut out)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = match flags::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            let text = flags::render(&e);
            if e.use_stderr() {
                eprint!("{text}");
            } else {
                // Help or version: a reader that went away is not an error.
                let _ = std::io::stdout().write_all(text.as_bytes());
            }
            // With --detailed-exitcode, 2 means "changes": a usage error is 1.
            let detailed = std::env::args_os().any(|a| a == "--detailed-exitcode");
            return match (e.use_stderr(), detailed) {
                (false, _) => ExitCode::SUCCESS,
                (true, true) => ExitCode::from(EXIT_API),
                (true, false) => ExitCode::from(EXIT_USAGE),
            };
        }
    };
    init_tracing(cli.global.verbose);
    let detailed = match &cli.command {
        Command::Plan(args) => args.detailed_exitcode,
        Command::Apply(args) => args.detailed_exitcode,
        _ => false,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_API);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(failure) if failure.code == 0 => ExitCode::SUCCESS,
        Err(failure) => {
            // Names in messages may hold control characters: never let them act.
            eprintln!("error: {}", output::escape_keep_lines(&failure.message));
            // With --detailed-exitcode, 2 means "changes": every error is 1
            // (an interruption keeps 130).
            let code = if detailed && failure.code == EXIT_USAGE { EXIT_API } else { failure.code };
            ExitCode::from(code)
        }
    }
}
