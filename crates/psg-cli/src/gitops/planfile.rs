//! Saved plans (`psg plan --out FILE`, `psg apply --plan FILE`): the plan,
//! the desired state it came from, the tenant and API version it was made
//! against, and a fingerprint of the tenant state it was computed from.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::failure::Failure;
use crate::gitops::desired::{self, DesiredGroup};
use crate::gitops::plan::{Action, Change, Plan, Summary};

/// Format version of saved plans.
pub const FORMAT: u32 = 2;

/// A plan as written to disk (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedPlan {
    /// Always [`FORMAT`].
    pub psg_plan: u32,
    /// The desired-state file the plan was made from (for messages).
    pub file: String,
    /// Whether groups the file does not name are deleted.
    pub prune: bool,
    /// The tenant root the plan was made against.
    pub base_url: String,
    /// The API version it was made with.
    pub api_version: String,
    /// Fingerprint of the tenant state the plan was computed from.
    pub fingerprint: String,
    /// The desired state (for re-planning after transient failures).
    pub desired: Vec<DesiredGroup>,
    /// The changes, in the order they are applied.
    pub changes: Vec<Change>,
    /// Their counts.
    pub summary: Summary,
}

impl SavedPlan {
    /// The plan it holds.
    pub fn plan(&self) -> Plan {
        Plan { changes: self.changes.clone() }
    }
}

/// Writes `text` to `path` atomically: a temporary file in the same
/// directory, then a rename.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), Failure> {
    if crate::stdio::is_dash(path) {
        return Err(Failure::usage("psg does not write a file named '-': give a file name"));
    }
    // psg-fs: a temporary file next to the target, synced, renamed; the
    // target's permissions kept, symlinks followed, nothing left on failure.
    psg_fs::write_atomic(path, text.as_bytes())
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))
}

/// Saves a plan.
pub fn save(path: &Path, saved: &SavedPlan) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(saved).expect("plain data serialises");
    write_atomically(path, &format!("{text}\n"))
}

/// Reads a saved plan; anything else is a usage error naming the file.
pub fn load(path: &Path) -> Result<SavedPlan, Failure> {
    let text = desired::read_text(path)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    // The format first: an older plan lacks fields this one requires.
    let version = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("psgPlan").and_then(serde_json::Value::as_u64));
    if let Some(v) = version
        && v != u64::from(FORMAT)
    {
        return Err(Failure::usage(format!(
            "{} is a version {v} plan; this psg reads version {FORMAT}: run psg plan --out again",
            path.display()
        )));
    }
    let saved: SavedPlan = serde_json::from_str(text).map_err(|e| {
        Failure::usage(format!(
            "{}:{}: not a plan written by `psg plan --out` ({e})",
            path.display(),
            e.line().max(1)
        ))
    })?;
    if saved.psg_plan != FORMAT {
        return Err(Failure::usage(format!(
            "{} is a version {} plan; this psg reads version {FORMAT}: run psg plan --out again",
            path.display(),
            saved.psg_plan
        )));
    }
    for (i, c) in saved.changes.iter().enumerate() {
        let complete = match c.action {
            Action::Create => c.after.is_some(),
            Action::Update => c.after.is_some() && c.id.is_some(),
            Action::Delete => c.id.is_some(),
        };
        if !complete {
            return Err(Failure::usage(format!(
                "{}: change #{} ({}) lacks its id or `after` fields; run psg plan --out again",
                path.display(),
                i + 1,
                c.label()
            )));
        }
    }
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_names_the_file_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, "x").unwrap();
        // A path under a regular file cannot be created, not even by root.
        let target = file.join("groups.yaml");
        let e = write_atomically(&target, "groups: []\n").unwrap_err();
        assert_eq!(e.code, 2);
        assert!(e.message.contains("groups.yaml"), "{}", e.message);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["plain-file"]);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    }

    #[cfg(unix)]
    #[test]
    fn an_export_keeps_permissions_and_follows_a_symlink() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.yaml");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("groups.yaml");
        symlink("real.yaml", &link).unwrap();
        write_atomically(&link, "new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o640);
    }
}
