//! Saved plans (`psg plan --out FILE`, `psg apply --plan FILE`): the plan,
//! the desired state it came from, and a fingerprint of the tenant state it
//! was computed against.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::desired::{self, DesiredGroup};
use crate::failure::Failure;
use crate::plan::{Action, Change, Plan, Summary};

/// Format version of saved plans.
pub const FORMAT: u32 = 1;

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
    use std::io::Write;
    let fail = |e: &dyn std::fmt::Display| Failure::usage(format!("cannot write {}: {e}", path.display()));
    if crate::stdio::is_dash(path) {
        return Err(Failure::usage("psg does not write a file named '-': give a file name"));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| fail(&e))?;
    tmp.write_all(text.as_bytes()).and_then(|()| tmp.as_file().sync_all()).map_err(|e| fail(&e))?;
    tmp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(())
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
