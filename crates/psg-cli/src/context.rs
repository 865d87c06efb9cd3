//! What every command needs: the client built from flags, profile and
//! environment; the output format; whether to draw progress bars.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use psg_ext::config::profile_file_path;
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

    /// The connection, whole from its one source (flags, `--profile`,
    /// `SAIL_*`, the `default` profile), with the layered flags on top.
    pub fn builder(&self) -> Result<ClientBuilder, Failure> {
        let g = &self.global;
        let path = profile_file_path();
        let mut builder = if let Some(url) = &g.base_url {
            let b = ClientBuilder::default().base_url(url);
            match (&g.client_id, &g.client_secret_file, &g.access_token_file) {
                (Some(id), Some(file), None) => {
                    b.client_credentials(id, read_secret(file, "--client-secret-file")?)
                }
                (None, None, Some(file)) => b.access_token(read_secret(file, "--access-token-file")?),
                _ => {
                    return Err(Failure::usage(
                        "--base-url needs its credentials on the command line too: --client-id ID --client-secret-file FILE, or --access-token-file FILE (psg never pairs a URL from one place with a secret from another)",
                    ));
                }
            }
        } else if let Some(name) = &g.profile {
            let path = path.as_deref().ok_or_else(|| {
                Failure::usage("--profile needs a profile file: set PSG_CONFIG to its path")
            })?;
            check_profile_file(path, true)?;
            warn_permissions(path);
            ClientBuilder::from_profile_file(path, name)?
        } else if let Some(b) = ClientBuilder::from_env_with(|k| std::env::var(k).ok())? {
            b
        } else if let Some(b) = path
            .as_deref()
            .map(|p| check_profile_file(p, false).map(|exists| exists.then_some(p)))
            .transpose()?
            .flatten()
            .map(ClientBuilder::from_default_profile)
            .transpose()?
            .flatten()
        {
            if let Some(p) = path.as_deref() {
                warn_permissions(p);
            }
            b
        } else {
            return Err(Failure::usage(format!(
                "no tenant configured: set SAIL_BASE_URL with SAIL_CLIENT_ID and SAIL_CLIENT_SECRET, use --profile NAME ({}), or pass --base-url with credential flags",
                path.map(|p| p.display().to_string()).unwrap_or_else(|| "set PSG_CONFIG".into())
            )));
        };
        if let Some(v) = g.api_version {
            builder = builder.api_version(v);
        }
        if let Some(secs) = g.timeout {
            builder = builder.request_timeout(std::time::Duration::from_secs(secs));
        }
        if let Some(n) = g.max_attempts {
            builder = builder.max_attempts(n);
        }
        Ok(builder)
    }

    /// The API client.
    pub fn client(&self) -> Result<Client, Failure> {
        Ok(self.builder()?.build()?)
    }

    /// Whether progress bars are drawn: stderr is a terminal, not
    /// `--no-progress`, and no `-v` (log lines would cut through the bar).
    pub fn progress_enabled(&self) -> bool {
        !self.global.no_progress && self.global.verbose == 0 && std::io::stderr().is_terminal()
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

/// Largest credential or token file psg reads; anything bigger is not a secret.
const SECRET_FILE_CAP: u64 = 64 * 1024;

/// Largest profile file (`PSG_CONFIG`) psg reads.
const PROFILE_FILE_CAP: u64 = 1024 * 1024;

/// Checks the profile file before anything reads it: a regular file of at most
/// 1 MiB (`/dev/zero`, a FIFO or a directory get one line naming the file and the
/// fix, instead of a hang or an out-of-memory). Only looks (`stat`), never opens.
/// Returns whether it exists; a missing file is an error only when `required`.
fn check_profile_file(path: &std::path::Path, required: bool) -> Result<bool, Failure> {
    let named = match std::env::var_os(psg_ext::config::ENV_CONFIG_FILE).filter(|v| !v.is_empty()) {
        Some(_) => format!("profile file {} (from PSG_CONFIG)", path.display()),
        None => format!("profile file {}", path.display()),
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(false),
        Err(e) => {
            return Err(Failure::usage(format!(
                "cannot read {named}: {e}; create it, or point PSG_CONFIG at an existing file"
            )));
        }
    };
    if !meta.is_file() {
        return Err(Failure::usage(format!(
            "{named} is not a regular file; point PSG_CONFIG at a TOML profile file"
        )));
    }
    if meta.len() > PROFILE_FILE_CAP {
        return Err(Failure::usage(format!(
            "{named} is {} bytes, larger than 1 MiB; a profile file holds a few profiles: point PSG_CONFIG at the right file",
            meta.len()
        )));
    }
    Ok(true)
}

/// A secret from a file: the first line, trimmed. Errors name the flag, never the content.
///
/// The file must be a regular file of at most [`SECRET_FILE_CAP`] bytes, so `/dev/zero` or a
/// pipe gets one clear line instead of exhausting memory.
fn read_secret(path: &std::path::Path, flag: &str) -> Result<String, Failure> {
    use std::io::Read;
    let cannot = |why: String| Failure::usage(format!("{flag}: cannot read {}: {why}", path.display()));
    let not_regular = || cannot("not a regular file; give the path of a file holding the secret".into());
    // Looked at before it is opened: opening a FIFO would wait for a writer.
    if !std::fs::metadata(path).map_err(|e| cannot(e.to_string()))?.is_file() {
        return Err(not_regular());
    }
    let file = std::fs::File::open(path).map_err(|e| cannot(e.to_string()))?;
    let meta = file.metadata().map_err(|e| cannot(e.to_string()))?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::new();
    file.take(SECRET_FILE_CAP + 1).read_to_end(&mut bytes).map_err(|e| cannot(e.to_string()))?;
    if bytes.len() as u64 > SECRET_FILE_CAP {
        return Err(cannot(format!(
            "larger than {} KiB; a secret file holds one line",
            SECRET_FILE_CAP / 1024
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| cannot("not UTF-8 text".into()))?;
    let secret = text.lines().next().unwrap_or_default().trim().to_string();
    if secret.is_empty() {
        return Err(Failure::usage(format!("{flag}: {} is empty", path.display())));
    }
    if let Some(w) = secret_file_permission_warning(&meta, path) {
        eprintln!("warning: {w}");
    }
    Ok(secret)
}

/// A warning when a secret file is readable by group or others (like a profile file's).
fn secret_file_permission_warning(meta: &std::fs::Metadata, path: &std::path::Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        (mode & 0o077 != 0).then(|| {
            format!(
                "{} holds a secret and is readable by others (mode {:o}); run: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (meta, path);
        None
    }
}

/// Warns once when the profile file holding secrets is readable by others.
fn warn_permissions(path: &std::path::Path) {
    if let Some(w) = profile_permission_warning(path) {
        eprintln!("warning: {w}");
    }
}

/// Whether a profile file readable by group or others holds a secret: the
/// warning text to show, if so (as ssh and the AWS CLI warn).
fn profile_permission_warning(path: &std::path::Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        if mode & 0o077 == 0 {
            return None;
        }
        let text = std::fs::read_to_string(path).ok()?;
        let table: toml::Table = toml::from_str(&text).ok()?;
        let profiles = table.get("profiles")?.as_table()?;
        let has_secret = profiles
            .values()
            .filter_map(|p| p.as_table())
            .any(|p| p.contains_key("client_secret") || p.contains_key("access_token"));
        has_secret.then(|| {
            format!(
                "{} holds secrets and is readable by others (mode {:o}); run: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

#[cfg(all(test, unix))]
mod permission_tests {
    use std::os::unix::fs::PermissionsExt;

    use super::profile_permission_warning;

    #[test]
    fn a_world_readable_profile_with_secrets_gets_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[profiles.p]\nbase_url = \"https://x\"\nclient_id = \"i\"\nclient_secret = \"s\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let w = profile_permission_warning(&p).unwrap();
        assert!(w.contains("chmod 600") && !w.contains("\"s\""), "{w}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(profile_permission_warning(&p), None);
        std::fs::write(&p, "[profiles.p]\nbase_url = \"https://x\"\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(profile_permission_warning(&p), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_zero_is_refused_with_one_line() {
        let err = read_secret(std::path::Path::new("/dev/zero"), "--client-secret-file").unwrap_err();
        let text = format!("{err}");
        assert!(text.contains("not a regular file"), "{text}");
        assert!(!text.contains('\n'), "{text}");
    }

    #[test]
    fn a_profile_file_must_be_a_regular_file_of_at_most_1_mib() {
        let dir = tempfile::tempdir().unwrap();
        for (path, required, expected) in [
            (std::path::PathBuf::from("/dev/zero"), false, "is not a regular file"),
            (dir.path().to_path_buf(), true, "is not a regular file"),
            (dir.path().join("missing.toml"), true, "cannot read profile file"),
        ] {
            let text = check_profile_file(&path, required).unwrap_err().message;
            assert!(text.contains(expected) && text.contains(&path.display().to_string()), "{text}");
            assert!(text.contains("PSG_CONFIG") && !text.contains('\n'), "{text}");
        }
        assert!(!check_profile_file(&dir.path().join("missing.toml"), false).unwrap());
        let big = dir.path().join("big.toml");
        std::fs::write(&big, "#".repeat(1024 * 1024 + 1)).unwrap();
        let text = check_profile_file(&big, true).unwrap_err().message;
        assert!(text.contains("larger than 1 MiB"), "{text}");
        let ok = dir.path().join("ok.toml");
        std::fs::write(&ok, "[profiles.p]\n").unwrap();
        assert!(check_profile_file(&ok, true).unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo here
        }
        let text = read_secret(&fifo, "--client-secret-file").unwrap_err().message;
        assert!(text.contains("not a regular file"), "{text}");
        assert!(check_profile_file(&fifo, true).unwrap_err().message.contains("not a regular file"));
    }

    #[test]
    fn oversized_file_is_refused_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big");
        std::fs::write(&file, "s3cr3t".repeat(20_000)).unwrap();
        let text = format!("{}", read_secret(&file, "--access-token-file").unwrap_err());
        assert!(text.contains("larger than 64 KiB"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_secret_file_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "x\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        assert!(secret_file_permission_warning(&meta, &file).unwrap().contains("chmod 600"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        assert!(secret_file_permission_warning(&meta, &file).is_none());
        assert_eq!(read_secret(&file, "--client-secret-file").unwrap(), "x");
    }
}
