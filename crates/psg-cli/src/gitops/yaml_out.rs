//! Writing YAML that every reader reads back as the same strings: YAML 1.2
//! readers and YAML 1.1 ones (PyYAML, Ansible, older yq), which take `y`,
//! `N`, `on`, `off` for booleans, `12:30` for a number (base 60), `2001-01-01`
//! for a date, `0755` for an octal number, `~` for null and `<<` for a merge.
//!
//! A string is written plain only when it starts with a letter, holds only
//! letters, digits, spaces and `-_./()+`, and is no boolean or null word of
//! either version (or, starting with a digit, is letters and digits with a
//! letter that no number can hold, as ids are). Anything else is
//! double-quoted, with every invisible or control character escaped
//! (`\u202e`), so a reviewer sees it.

use serde_json::Value;

/// Words YAML 1.1 or 1.2 reads as booleans or null (compared case-insensitively).
const RESERVED: [&str; 10] = ["y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan"];

/// Whether `s` can be written without quotes and read back as the same string by YAML 1.1 and 1.2 readers.
pub fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    let allowed = |c: char| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '/' | '(' | ')' | '+');
    if !s.chars().all(allowed) || s.ends_with(' ') || RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)) {
        return false;
    }
    if first.is_ascii_digit() {
        // 0x1F, 0b101, 0o17, 1e3 are numbers; 2c9180887d9c… (an id) is not.
        let prefixed = s.starts_with('0') && s.chars().nth(1).is_some_and(|c| "xXoObB".contains(c));
        return !prefixed
            && s.chars().all(|c| c.is_ascii_alphanumeric())
            && s.chars().any(|c| c.is_ascii_alphabetic() && !"eE".contains(c));
    }
    first.is_alphabetic()
}

/// `s` as a YAML scalar: plain when [`plain_is_safe`], else double-quoted and escaped.
pub fn scalar(s: &str) -> String {
    if plain_is_safe(s) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if crate::output::is_invisible(c) || matches!(c, '\u{fffe}' | '\u{ffff}') => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A scalar or empty collection on one line.
fn inline(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("null".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(scalar(s)),
        Value::Array(a) if a.is_empty() => Some("[]".into()),
        Value::Object(o) if o.is_empty() => Some("{}".into()),
        _ => None,
    }
}

/// Writes a non-empty collection, one entry a line at `indent`; the first
/// line's indent is already written when `continued`.
fn block(out: &mut String, v: &Value, indent: usize, mut continued: bool) {
    let mut pad = |out: &mut String| {
        if !continued {
            out.push_str(&" ".repeat(indent));
        }
        continued = false;
    };
    match v {
        Value::Object(map) => {
            for (key, value) in map {
                pad(out);
                out.push_str(&scalar(key));
                out.push(':');
                match inline(value) {
                    Some(text) => {
                        out.push(' ');
                        out.push_str(&text);
                        out.push('\n');
                    }
                    None => {
                        out.push('\n');
                        // Lists sit at their key's indent, mappings one step in.
                        let inner = if value.is_array() { indent } else { indent + 2 };
                        block(out, value, inner, false);
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                pad(out);
                out.push('-');
                match inline(item) {
                    Some(text) => {
                        out.push(' ');
                        out.push_str(&text);
                        out.push('\n');
                    }
                    None => {
                        out.push(' ');
                        block(out, item, indent + 2, true);
                    }
                }
            }
        }
        scalar => {
            pad(out);
            out.push_str(&inline(scalar).unwrap_or_default());
            out.push('\n');
        }
    }
}

/// `value` as a YAML document (block style, keys in the value's order).
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match inline(value) {
        Some(text) => {
            out.push_str(&text);
            out.push('\n');
        }
        None => block(&mut out, value, 0, false),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops::yaml::load;

    /// Strings YAML 1.1 tools read as something else when unquoted.
    pub const MISREAD: [&str; 40] = [
        "12:30",
        "190:20:30",
        "2001-01-01",
        "2001-12-14t21:59:43.10-05:00",
        "y",
        "Y",
        "n",
        "N",
        "yes",
        "No",
        "on",
        "On",
        "OFF",
        "off",
        "true",
        "False",
        "~",
        "null",
        "NULL",
        "",
        "<<",
        "=",
        "0755",
        "0o17",
        "0x1F",
        "0b101",
        "1_000",
        "1e3",
        "-1",
        "+1",
        ".inf",
        "-.Inf",
        ".NaN",
        "1.5",
        "- x",
        "a: b",
        "#c",
        "@x",
        " lead",
        "trail ",
    ];

    #[test]
    fn every_misread_scalar_is_quoted_and_reads_back() {
        for s in MISREAD {
            let text = scalar(s);
            assert!(text.starts_with('"'), "{s:?} written plain: {text}");
            let (node, _) = load(&format!("k: {text}\n")).unwrap();
            assert_eq!(node.get("k").unwrap().as_str(), Some(s), "{text}");
        }
        for s in ["Finance", "Active Directory", "東京本社", "2c9180887d9c0c5e017da4b4f3d2004c", "HR (EU)"]
        {
            assert_eq!(scalar(s), s, "needlessly quoted");
        }
        assert_eq!(scalar("a\u{202e}b\u{200b}c\u{a0}d"), "\"a\\u202eb\\u200bc\\u00a0d\"");
    }

    #[test]
    fn a_digit_then_a_multibyte_character_is_quoted_without_panicking() {
        // Found by the export property test: the second character used to be
        // taken as a byte slice, which panics inside a multi-byte character.
        for s in ["0中", "0é", "0\u{1f600}", "1中"] {
            let text = scalar(s);
            assert!(text.starts_with('"'), "{s:?} written plain: {text}");
            let (node, _) = load(&format!("k: {text}\n")).unwrap();
            assert_eq!(node.get("k").unwrap().as_str(), Some(s), "{text}");
        }
    }

    #[test]
    fn documents_have_the_exported_shape() {
        let doc = serde_json::json!({"groups": [{"name": "on", "sourceIds": ["a1", "b2"]}], "empty": [], "m": {"k": 1}});
        assert_eq!(
            to_string(&doc),
            "empty: []\ngroups:\n- name: \"on\"\n  sourceIds:\n  - a1\n  - b2\nm:\n  k: 1\n"
        );
    }

    /// PyYAML (a YAML 1.1 reader) reads `text` as this JSON, when python3 with PyYAML is here.
    fn pyyaml(text: &str) -> Option<Value> {
        use std::io::Write;
        let mut child = std::process::Command::new("python3")
            .args(["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(text.as_bytes()).ok()?;
        let out = child.wait_with_output().ok()?;
        out.status.success().then(|| serde_json::from_slice(&out.stdout).ok()).flatten()
    }

    #[test]
    fn pyyaml_reads_every_string_back() {
        let mut names: Vec<String> = MISREAD.iter().map(|s| s.to_string()).collect();
        names.extend(
            ["a\u{85}b", "x\u{2028}y", "\u{feff}bom", "tab\there", "q\"uote", "back\\slash", "\u{1f600}"]
                .map(String::from),
        );
        let doc = serde_json::json!({ "groups": names.iter().map(|n| serde_json::json!({"name": n})).collect::<Vec<_>>() });
        let text = to_string(&doc);
        match pyyaml(&text) {
            Some(read) => assert_eq!(read, doc, "{text}"),
            None => eprintln!("python3 with PyYAML not found: the round trip through PyYAML was not run"),
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_reads_back_through_psgs_reader(s in "\\PC{0,40}|[ -~]{0,20}|[\u{0}-\u{ff}\u{2000}-\u{206f}]{0,10}") {
            let doc = serde_json::json!({"k": [s.clone()]});
            let text = to_string(&doc);
            let (node, _) = load(&text).map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{e:?}: {text}")))?;
            let got = node.get("k").and_then(|k| k.as_seq()).and_then(|l| l[0].as_str()).map(str::to_string);
            proptest::prop_assert_eq!(got, Some(s), "{}", text);
        }
    }
}
