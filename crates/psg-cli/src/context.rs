//! What every command needs: the client built from flags, profile and
//! environment; the output format; whether to draw progress bars.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use psg_ext::config::{Settings, load_default_profile, load_profile, profile_file_path};
use psg_ext::{Client, ClientBuilder};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::failure::Failure;

/// Settings shared by all commands.
pub struct Context {
    /// The global flags.
    pub global: GlobalArgs,
    /// The output format in force.
    pub format: OutputFormat,
}

impl Context {
    /// Resolves the output format: the flag, else table on a terminal, else JSON.
    pub fn new(global: GlobalArgs) -> Self {
        let format = global.output.unwrap_or(if std::io::stdout().is_terminal() {
            OutputFormat::Table
        } else {
            OutputFormat::Json
        });
        Context { global, format }
    }

    /// Profile (named, or `default` when present) < environment < flags.
    pub fn settings(&self) -> Result<Settings, Failure> {
        let path = profile_file_path();
        let file = match (&self.global.profile, &path) {
            (Some(name), Some(path)) => Some(load_profile(path, name)?),
            (Some(_), None) => {
                return Err(Failure::usage("--profile needs a profile file: set PSG_CONFIG to its path"));
            }
            (None, Some(path)) => load_default_profile(path)?,
            (None, None) => None,
        };
        let mut settings = file.unwrap_or_default().overlay(Settings::from_env());
        if let Some(url) = &self.global.base_url {
            settings.base_url = Some((url.clone(), "--base-url".into()));
        }
        if let Some(secs) = self.global.timeout {
            settings.timeout = Some(std::time::Duration::from_secs(secs.max(1)));
        }
        if let Some(n) = self.global.max_attempts {
            settings.max_attempts = Some(n.max(1));
        }
        Ok(settings)
    }

    /// The API client.
    pub fn client(&self) -> Result<Client, Failure> {
        Ok(ClientBuilder::from_settings(self.settings()?).build()?)
    }

    /// Whether progress bars are drawn: stderr is a terminal and not `--no-progress`.
    pub fn progress_enabled(&self) -> bool {
        !self.global.no_progress && std::io::stderr().is_terminal()
    }

    /// A progress bar on stderr when [`Context::progress_enabled`]; hidden otherwise.
    pub fn progress(&self, len: u64, what: &str) -> ProgressBar {
        if !self.progress_enabled() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(len);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} ({eta})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        bar
    }
}
