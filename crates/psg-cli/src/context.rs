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
            warn_permissions(path);
            ClientBuilder::from_profile_file(path, name)?
        } else if let Some(b) = ClientBuilder::from_env_with(|k| std::env::var(k).ok())? {
            b
        } else if let Some(b) =
            path.as_deref().map(ClientBuilder::from_default_profile).transpose()?.flatten()
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

/// A secret from a file: the first line, trimmed. Errors name the flag, never the content.
///
/// The file must be a regular file of at most [`SECRET_FILE_CAP`] bytes, so `/dev/zero` or a
/// pipe gets one clear line instead of exhausting memory.
fn read_secret(path: &std::path::Path, flag: &str) -> Result<String, Failure> {
    use std::io::Read;
    let cannot = |why: String| Failure::usage(format!("{flag}: cannot read {}: {why}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| cannot(e.to_string()))?;
    let meta = file.metadata().map_err(|e| cannot(e.to_string()))?;
    if !meta.is_file() {
        return Err(cannot("not a regular file; give the path of a file holding the secret".into()));
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
