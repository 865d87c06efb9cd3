//! Parsing the command line: numeric flags checked against their range
//! (negative numbers included), usage errors in one plain form, and the
//! client flags refused by commands that never talk to a tenant.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgMatches, Command, CommandFactory, FromArgMatches};

use crate::cli::Cli;

/// A whole number in `lo..=hi`; anything else is refused with the range,
/// written `lo..hi` as the help texts write it.
pub fn ranged<T>(lo: u64, hi: u64) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: TryFrom<u64>,
{
    move |text: &str| {
        let range = if hi == u64::MAX { format!("{lo} or more") } else { format!("{lo}..{hi}") };
        let value: i128 = text.trim().parse().map_err(|_| format!("a whole number, {range}"))?;
        if value < i128::from(lo) || value > i128::from(hi) {
            return Err(range);
        }
        u64::try_from(value).ok().and_then(|v| T::try_from(v).ok()).ok_or(range)
    }
}

/// Commands that never use a tenant connection, and why.
const NO_TENANT: [(&str, &str); 4] = [
    ("man", "it only prints the manual"),
    ("emulator", "it serves an emulator, it does not call a tenant"),
    ("completions", "it only prints a script"),
    ("demo", "it runs against its own embedded emulator"),
];

/// The global flags that only matter to commands that call a tenant.
const CLIENT_FLAGS: [&str; 9] = [
    "base_url",
    "client_id",
    "client_secret_file",
    "access_token_file",
    "api_version",
    "profile",
    "output",
    "timeout",
    "max_attempts",
];

/// Marks the refusal so that [`render`] prints it as a sentence of its own.
const REFUSED: &str = "\u{0}refused:";

/// `cmd` with every client flag of `global` replaced by a hidden one that
/// refuses any value.
fn shadow_client_flags(cmd: Command, global: &[Arg], why: &'static str) -> Command {
    let name = cmd.get_name().to_string();
    let mut cmd = cmd;
    for arg in global.iter().filter(|a| CLIENT_FLAGS.contains(&a.get_id().as_str())) {
        let flag = arg.get_long().map(|l| format!("--{l}")).unwrap_or_else(|| arg.get_id().to_string());
        let message = format!("{REFUSED}psg {name} does not take {flag}: {why}");
        let shadow = arg
            .clone()
            .global(false)
            .hide(true)
            .env(None)
            .allow_hyphen_values(true)
            .value_parser(move |_: &str| -> Result<String, String> { Err(message.clone()) });
        cmd = cmd.arg(shadow);
    }
    cmd
}

/// The full command line definition, with the client flags refused (and not
/// shown) where they mean nothing.
pub fn command() -> Command {
    let mut cmd = Cli::command().version(crate::version::text());
    let global: Vec<Arg> = cmd.get_arguments().filter(|a| a.is_global_set()).cloned().collect();
    for (name, why) in NO_TENANT {
        if cmd.find_subcommand(name).is_some() {
            cmd = cmd.mut_subcommand(name, |sc| shadow_client_flags(sc, &global, why));
        }
    }
    cmd
}

/// `cmd` and its subcommands, recursively, with `args` added.
fn with_args(cmd: Command, args: &[Arg]) -> Command {
    let mut cmd = args.iter().fold(cmd, |c, a| c.arg(a.clone()));
    let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |sc| with_args(sc, args));
    }
    cmd
}

/// The definition that shell completions are generated from: the client
/// flags are offered only where they are accepted (completion generators
/// list hidden arguments too, so the refusing shadows cannot be used).
pub fn completion_command() -> Command {
    let mut cmd = Cli::command();
    let client: Vec<Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set() && CLIENT_FLAGS.contains(&a.get_id().as_str()))
        .map(|a| a.clone().global(false))
        .collect();
    for a in &client {
        cmd = cmd.mut_arg(a.get_id().clone(), |a| a.global(false));
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .filter(|n| !NO_TENANT.iter().any(|(skip, _)| skip == n))
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |sc| with_args(sc, &client));
    }
    cmd
}

/// Parses `args` (the program name first).
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut cmd = command();
    let matches: ArgMatches = cmd.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

/// The text of a usage error: a bad value reads
/// `invalid value '-1' for '--limit': 0..250`; a refused flag is one sentence.
pub fn render(e: &clap::Error) -> String {
    if e.kind() == ErrorKind::ValueValidation
        && let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) =
            (e.get(ContextKind::InvalidArg), e.get(ContextKind::InvalidValue))
    {
        let flag = arg.split(' ').next().unwrap_or(arg);
        let reason = std::error::Error::source(e).map(|s| s.to_string()).unwrap_or_default();
        if let Some(refusal) = reason.strip_prefix(REFUSED) {
            return format!("error: {refusal}\n");
        }
        let shown: String = value.chars().flat_map(char::escape_default).take(80).collect();
        return format!(
            "error: invalid value '{shown}' for '{flag}': {reason}\n\nFor more information, try '--help'.\n"
        );
    }
    e.render().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_refuse_negative_and_large_numbers() {
        let p = ranged::<u32>(0, 250);
        assert_eq!(p("-1"), Err("0..250".to_string()));
        assert_eq!(p("251"), Err("0..250".to_string()));
        assert_eq!(p("250"), Ok(250));
        assert_eq!(p("99999999999999999999999999999999999999999"), Err("a whole number, 0..250".to_string()));
        assert_eq!(ranged::<u64>(0, u64::MAX)("-5"), Err("0 or more".to_string()));
    }

    #[test]
    fn the_limit_error_has_the_exact_text() {
        let e = parse_from(["psg", "groups", "list", "--limit", "-1"]).unwrap_err();
        assert!(
            render(&e).starts_with("error: invalid value '-1' for '--limit': 0..250\n"),
            "{}",
            render(&e)
        );
    }

    #[test]
    fn demo_refuses_client_flags_and_hides_them() {
        let e = parse_from(["psg", "demo", "--base-url", "https://x"]).unwrap_err();
        assert_eq!(
            render(&e),
            "error: psg demo does not take --base-url: it runs against its own embedded emulator\n"
        );
        assert!(parse_from(["psg", "completions", "bash", "-o", "json"]).is_err());
        assert!(parse_from(["psg", "demo"]).is_ok());
        assert!(parse_from(["psg", "groups", "list", "-o", "json"]).is_ok());
        let mut cmd = command();
        let help = cmd.find_subcommand_mut("demo").unwrap().render_long_help().to_string();
        assert!(!help.contains("--base-url") && !help.contains("--timeout"), "{help}");
    }

    #[test]
    fn completions_offer_client_flags_only_where_accepted() {
        let mut out = Vec::new();
        clap_complete::generate(clap_complete::Shell::Fish, &mut completion_command(), "psg", &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("__fish_psg_using_subcommand groups") && text.contains("-l base-url"),
            "{text}"
        );
        for line in text
            .lines()
            .filter(|l| l.contains("using_subcommand demo") || l.contains("using_subcommand completions"))
        {
            assert!(!line.contains("base-url") && !line.contains("-l timeout"), "{line}");
        }
    }

    proptest::proptest! {
        #[test]
        fn ranged_never_panics(s in ".*") {
            let _ = ranged::<u32>(1, 100)(&s);
        }
    }
}
