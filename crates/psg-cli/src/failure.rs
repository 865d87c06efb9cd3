//! What the user sees when something fails: one line on stderr and an exit
//! code (1: API or network, 2: usage or bad input).

use std::fmt;

use psg_ext::Error;

/// Exit code for API and network failures.
pub const EXIT_API: u8 = 1;
/// Exit code for usage errors and bad input.
pub const EXIT_USAGE: u8 = 2;

/// A failure of a command, ready to print.
#[derive(Debug)]
pub struct Failure {
    /// One line, naming what is wrong and what to do.
    pub message: String,
    /// The process exit code.
    pub code: u8,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Failure {
    /// Bad input or usage: exit 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure { message: message.into(), code: EXIT_USAGE }
    }

    /// The reader of stdout went away: stop, print nothing, exit 0.
    pub fn closed_pipe() -> Self {
        Failure { message: String::new(), code: 0 }
    }

    /// Whether this is [`Failure::closed_pipe`].
    pub fn is_closed_pipe(&self) -> bool {
        self.code == 0 && self.message.is_empty()
    }

    /// API or network trouble: exit 1.
    pub fn api(message: impl Into<String>) -> Self {
        Failure { message: message.into(), code: EXIT_API }
    }
}

/// A sentence without its closing punctuation, so that another clause can follow.
fn clause(text: &str) -> &str {
    text.trim().trim_end_matches(['.', ';', ':', ',', ' '])
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let text = e.to_string();
        let text = clause(&text);
        match &e {
            Error::Config { .. } | Error::InvalidInput { .. } => Failure::usage(text),
            // psg-ext names the refused operation's scope; grant it, or ask for a new token.
            Error::Api(detail) if detail.status == 403 && detail.required_scope.is_some() => {
                Failure::api(format!("{text} (grant it, then run psg again)"))
            }
            Error::RateLimited { retry_after: Some(_), .. } => Failure::api(format!(
                "{text}; waited as the server asked, then gave up (raise --max-attempts to wait longer)"
            )),
            Error::RateLimited { retry_after: None, .. } => {
                Failure::api(format!("{text}; raise --max-attempts to keep trying longer"))
            }
            Error::Timeout { .. } => Failure::api(format!("{text} (--timeout sets the per-request limit)")),
            // The request went out: saying the server could not be reached would be false.
            Error::Transport { cause, .. } if !cause.is_connect() => {
                Failure::api(clause(&crate::settle::describe(&e)).to_string())
            }
            _ => Failure::api(text),
        }
    }
}

impl From<std::io::Error> for Failure {
    /// A closed pipe on stdout (`psg ... | head -1`) ends the command quietly
    /// with exit 0, as other Unix tools do.
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Failure::closed_pipe();
        }
        Failure::api(format!("I/O error: {e}"))
    }
}
