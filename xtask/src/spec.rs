//! Reading OpenAPI documents: one place that turns a path into a JSON value or
//! an `openapiv3::OpenAPI`, with errors that name the file, the JSON pointer
//! and the fix.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The folder of checked-in fragments, relative to the workspace root.
pub const FRAGMENTS_DIR: &str = "openapi";
/// The Password Sync Groups fragment, relative to the workspace root. It
/// comes first when fragments are merged, so its `info` names the client.
pub const FRAGMENT: &str = "openapi/password-sync-groups.yaml";
/// Declared deviations from upstream, relative to the workspace root.
pub const DEVIATIONS: &str = "openapi/deviations.yaml";

/// An error about an input document: printed as one line.
#[derive(Debug)]
pub struct SpecError {
    pub file: PathBuf,
    pub pointer: String,
    pub problem: String,
    pub fix: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() { "/" } else { &self.pointer };
        write!(f, "{} at {}: {} (fix: {})", self.file.display(), pointer, self.problem, self.fix)
    }
}

impl std::error::Error for SpecError {}

impl SpecError {
    pub fn new(
        file: &Path,
        pointer: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        SpecError {
            file: file.to_path_buf(),
            pointer: pointer.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Every fragment under `dir` (files ending in `.yaml`, except the deviation
/// list), as paths: the Password Sync Groups fragment first, then the others
/// by file name. Deterministic, so that generation is too.
pub fn fragments(dir: &Path) -> Result<Vec<PathBuf>, SpecError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        SpecError::new(
            dir,
            "",
            format!("cannot list the folder: {e}"),
            "run from a checkout of the workspace",
        )
    })?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| {
                SpecError::new(dir, "", format!("cannot list the folder: {e}"), "check its permissions")
            })?
            .path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.ends_with(".yaml") && Some(name) != Path::new(DEVIATIONS).file_name().and_then(|n| n.to_str())
        {
            out.push(path);
        }
    }
    let primary = Path::new(FRAGMENT).file_name();
    out.sort_by_key(|p| (p.file_name() != primary, p.file_name().map(|n| n.to_os_string())));
    if out.is_empty() {
        return Err(SpecError::new(
            dir,
            "",
            "no fragment (*.yaml) in this folder",
            "add an OpenAPI fragment",
        ));
    }
    Ok(out)
}

/// Reads a YAML or JSON document into a JSON value.
pub fn read_value(path: &Path) -> Result<Value, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        SpecError::new(
            path,
            "",
            format!("cannot read the file: {e}"),
            "check the path and that the file is readable text",
        )
    })?;
    let value: Value = serde_norway::from_str(&text).map_err(|e| {
        let at =
            e.location().map(|l| format!(" (line {}, column {})", l.line(), l.column())).unwrap_or_default();
        SpecError::new(path, "", format!("not valid YAML or JSON{at}: {e}"), "repair the syntax at that line")
    })?;
    if !value.is_object() {
        return Err(SpecError::new(
            path,
            "",
            "the document is not a mapping",
            "an OpenAPI document starts with `openapi: 3.0.x`",
        ));
    }
    Ok(value)
}

/// Checks the version and converts a JSON value into a typed OpenAPI document.
pub fn to_openapi(path: &Path, value: Value) -> Result<openapiv3::OpenAPI, SpecError> {
    match value.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0.") => {}
        Some(v) => {
            return Err(SpecError::new(
                path,
                "/openapi",
                format!("OpenAPI {v} is not supported by progenitor"),
                "write the fragment as OpenAPI 3.0.x",
            ));
        }
        None => {
            return Err(SpecError::new(
                path,
                "/openapi",
                "missing `openapi` version",
                "add `openapi: 3.0.1` at the top",
            ));
        }
    }
    let narrowed = narrow_path_error(&value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let (pointer, problem) =
            narrowed.unwrap_or_else(|| (json_pointer_of(e.path()), e.inner().to_string()));
        SpecError::new(path, pointer, problem, "make this node match the OpenAPI 3.0 schema")
    })
}

/// `paths` entries deserialize through untagged enums, which hide where the
/// error is; deserialize each operation alone to find the deepest pointer.
fn narrow_path_error(doc: &Value) -> Option<(String, String)> {
    for (name, item) in doc.get("paths")?.as_object()? {
        for (method, op) in item.as_object().into_iter().flatten() {
            if !["get", "put", "post", "delete", "options", "head", "patch", "trace"]
                .contains(&method.as_str())
            {
                continue;
            }
            if let Err(e) = serde_path_to_error::deserialize::<_, openapiv3::Operation>(op.clone()) {
                let pointer =
                    format!("/paths/{}/{method}{}", escape_pointer(name), json_pointer_of(e.path()));
                return Some((pointer, e.inner().to_string()));
            }
        }
    }
    None
}

fn json_pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => out.push_str(&escape_pointer(key)),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// Escapes one JSON-pointer segment (`~` → `~0`, `/` → `~1`).
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
