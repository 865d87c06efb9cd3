//! `psg --version`: the version, the commit it was built from and the API
//! versions it speaks.

use std::sync::OnceLock;

/// The commit recorded by build.rs (`unknown` when built without git).
pub const COMMIT: &str = env!("PSG_BUILD_COMMIT");

/// The text after `psg ` in `psg --version`:
/// `0.1.0\ncommit: 1a2b3c4d5e6f\nAPI versions: beta, v3, ...`.
pub fn text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let apis: Vec<_> = psg_ext::ApiVersion::ALL.iter().map(|v| v.as_str()).collect();
        format!("{}\ncommit: {COMMIT}\nAPI versions: {}", env!("CARGO_PKG_VERSION"), apis.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use crate::build_commit;

    #[test]
    fn without_git_or_package_info_the_commit_is_unknown() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(build_commit::commit(dir.path()), "unknown");
    }

    #[test]
    fn a_packaged_crate_reads_the_commit_cargo_recorded() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".cargo_vcs_info.json"),
            "{\n  \"git\": {\n    \"sha1\": \"0123456789abcdef0123456789abcdef01234567\"\n  },\n  \"path_in_vcs\": \"crates/psg-cli\"\n}",
        )
        .unwrap();
        assert_eq!(build_commit::commit(dir.path()), "0123456789ab");
        std::fs::write(dir.path().join(".cargo_vcs_info.json"), "{\"sha1\": 5").unwrap();
        assert_eq!(build_commit::commit(dir.path()), "unknown");
    }
}
