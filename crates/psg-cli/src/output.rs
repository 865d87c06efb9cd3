//! Printing groups as a table, JSON, YAML or NDJSON; names made safe for a
//! terminal; colour only where it belongs.

use std::io::{IsTerminal, Write};

use psg_ext::Group;

use crate::cli::OutputFormat;
use crate::failure::Failure;
use crate::names::Labels;

/// Serialises one value in the API's camelCase model.
pub fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("models serialise")
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
fn format_time(t: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Whether `c` would act on a terminal or look like something it is not:
/// controls (Cc), format characters (Cf: bidi overrides and isolates,
/// zero-width spaces and joiners, the BOM, soft hyphens), line and paragraph
/// separators, and every space but U+0020 and the ideographic space U+3000
/// of CJK text (no-break, thin, en and em spaces...).
pub fn is_invisible(c: char) -> bool {
    use unicode_general_category::{GeneralCategory, get_general_category};
    match get_general_category(c) {
        GeneralCategory::Control
        | GeneralCategory::Format
        | GeneralCategory::LineSeparator
        | GeneralCategory::ParagraphSeparator => true,
        GeneralCategory::SpaceSeparator => !matches!(c, ' ' | '\u{3000}'),
        _ => false,
    }
}

/// `text` with every control or invisible character (see [`is_invisible`])
/// written as an escape (`\e`, `\a`, `\n`, `\t`, `\r`, else `\u{..}`), so
/// that a name cannot move the cursor, ring the bell, break a line, reorder
/// what follows it or hide that it differs from another.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{1b}' => out.push_str("\\e"),
            '\u{7}' => out.push_str("\\a"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_invisible(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Like [`escape`], but keeps line breaks: for multi-line messages.
pub fn escape_keep_lines(text: &str) -> String {
    text.split('\n').map(escape).collect::<Vec<_>>().join("\n")
}

/// A name in double quotes, escaped.
pub fn quoted(name: &str) -> String {
    format!("\"{}\"", escape(name).replace('"', "\\\""))
}

/// Whether `NO_COLOR` asks for no colour (set and not empty, as no-color.org says).
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
        || std::env::var_os("TERM").is_some_and(|t| t == "dumb")
}

/// Colour on stdout: a terminal, and no `NO_COLOR`.
pub fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && !no_color()
}

/// Colour on stderr (logs): a terminal, and no `NO_COLOR`.
pub fn color_stderr() -> bool {
    std::io::stderr().is_terminal() && !no_color()
}

/// Colours for plan lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    /// Creates.
    Green,
    /// Updates.
    Yellow,
    /// Deletes.
    Red,
}

/// `text` in `paint` (each line on its own, so a pager keeps the colour).
pub fn paint(text: &str, paint: Paint) -> String {
    let code = match paint {
        Paint::Green => "32",
        Paint::Yellow => "33",
        Paint::Red => "31",
    };
    text.split('\n').map(|l| format!("\u{1b}[{code}m{l}\u{1b}[0m")).collect::<Vec<_>>().join("\n")
}

/// The width tables must fit: the terminal's, when stdout is one.
pub fn terminal_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    console::Term::stdout().size_checked().map(|(_, cols)| usize::from(cols)).filter(|&c| c > 0)
}

/// A table of groups with policy and source names from `labels` (an id
/// without a name is shown as the id). `width` fits it (see [`crate::table`]);
/// `wide` adds the ids of policy and sources and the creation time, and never cuts.
pub fn table(groups: &[Group], labels: &Labels, width: Option<usize>, wide: bool) -> String {
    use crate::table::{Column, Fit};
    let policy =
        |g: &Group| labels.policy(&g.password_policy_id).unwrap_or(&g.password_policy_id).to_string();
    let sources = |g: &Group| {
        g.source_ids.iter().map(|id| labels.source(id).unwrap_or(id)).collect::<Vec<_>>().join(", ")
    };
    let time = |t: Option<std::time::SystemTime>| t.map(format_time).unwrap_or_default();
    if wide {
        let columns = [
            Column::new("ID", Fit::Whole),
            Column::new("NAME", Fit::Name),
            Column::new("POLICY", Fit::Cut),
            Column::new("POLICY ID", Fit::Whole),
            Column::new("SOURCES", Fit::Cut),
            Column::new("SOURCE IDS", Fit::Cut),
            Column::new("MODIFIED", Fit::Drop),
            Column::new("CREATED", Fit::Drop),
        ];
        let rows: Vec<Vec<String>> = groups
            .iter()
            .map(|g| {
                vec![
                    escape(&g.id),
                    escape(&g.name),
                    escape(&policy(g)),
                    escape(&g.password_policy_id),
                    escape(&sources(g)),
                    escape(&g.source_ids.join(",")),
                    time(g.modified),
                    time(g.created),
                ]
            })
            .collect();
        return crate::table::render(&columns, &rows, None);
    }
    let columns = [
        Column::new("ID", Fit::Whole),
        Column::new("NAME", Fit::Name),
        Column::new("POLICY", Fit::Cut),
        Column::new("SOURCES", Fit::Cut),
        Column::new("MODIFIED", Fit::Drop),
    ];
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            vec![escape(&g.id), escape(&g.name), escape(&policy(g)), escape(&sources(g)), time(g.modified)]
        })
        .collect();
    crate::table::render(&columns, &rows, width)
}

/// Prints a list of groups in `format`; tables name policies and sources from `labels`.
pub fn print_groups(
    out: &mut impl Write,
    format: OutputFormat,
    groups: &[Group],
    labels: &Labels,
) -> Result<(), Failure> {
    match format {
        OutputFormat::Table => write!(out, "{}", table(groups, labels, crate::table::width(), false))?,
        OutputFormat::Wide => write!(out, "{}", table(groups, labels, None, true))?,
        OutputFormat::Json => writeln!(out, "{}", to_json(&groups))?,
        OutputFormat::Yaml => write!(out, "{}", serde_norway::to_string(&groups).expect("models serialise"))?,
        OutputFormat::Ndjson => {
            for g in groups {
                print_ndjson(out, g)?;
            }
        }
    }
    Ok(())
}

/// Prints one group in `format`; tables name policies and sources from `labels`.
pub fn print_group(
    out: &mut impl Write,
    format: OutputFormat,
    group: &Group,
    labels: &Labels,
) -> Result<(), Failure> {
    match format {
        OutputFormat::Table | OutputFormat::Wide => {
            print_groups(out, format, std::slice::from_ref(group), labels)?
        }
        OutputFormat::Json => writeln!(out, "{}", to_json(group))?,
        OutputFormat::Yaml => write!(out, "{}", serde_norway::to_string(group).expect("models serialise"))?,
        OutputFormat::Ndjson => print_ndjson(out, group)?,
    }
    Ok(())
}

/// One compact JSON line, flushed so that consumers see it at once.
pub fn print_ndjson(out: &mut impl Write, group: &Group) -> Result<(), Failure> {
    writeln!(out, "{}", serde_json::to_string(group).expect("models serialise"))?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str, name: &str) -> Group {
        Group::new(id, name, "p", ["a", "b"])
    }

    #[test]
    fn table_columns_are_aligned() {
        let t = table(
            &[group("1", "short"), group("22222", "a much longer name")],
            &Labels::default(),
            None,
            false,
        );
        let lines: Vec<_> = t.lines().collect();
        let col = |l: &str| l.find("POLICY").or_else(|| l.find(" p ").map(|i| i + 1)).unwrap();
        assert_eq!(col(lines[0]), col(lines[1]));
        assert_eq!(col(lines[1]), col(lines[2]));
    }

    #[test]
    fn tables_fit_a_width_and_wide_never_cuts() {
        let long = "n".repeat(200);
        let t = table(&[group(&"i".repeat(64), &long)], &Labels::default(), Some(80), false);
        for line in t.lines() {
            assert!(console::measure_text_width(line) <= 80, "{line}");
        }
        assert!(t.contains('…'));
        let w = table(&[group(&"i".repeat(64), &long)], &Labels::default(), Some(80), true);
        assert!(w.contains(&long) && !w.contains('…'));
    }

    #[test]
    fn tables_show_names_and_wide_shows_ids_too() {
        let labels = Labels::from_pairs(
            [("p".to_string(), "Corporate".to_string())],
            [("a".to_string(), "Active Directory".to_string())],
        );
        let t = table(&[group("1", "n")], &labels, None, false);
        assert!(t.contains("Corporate") && t.contains("Active Directory, b") && !t.contains(" p "), "{t}");
        let w = table(&[group("1", "n")], &labels, None, true);
        assert!(w.contains("POLICY ID") && w.contains("Corporate  p") && w.contains("a,b"), "{w}");
    }

    #[test]
    fn bidi_zero_width_and_no_break_spaces_are_escaped() {
        assert_eq!(escape("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(escape("a\u{2066}b\u{2069}"), "a\\u{2066}b\\u{2069}");
        assert_eq!(escape("Fin\u{200b}ance\u{feff}"), "Fin\\u{200b}ance\\u{feff}");
        assert_eq!(escape("HR\u{a0}EU\u{202f}x\u{2028}"), "HR\\u{a0}EU\\u{202f}x\\u{2028}");
        assert_eq!(escape("東京\u{3000}本社 Café"), "東京\u{3000}本社 Café", "ordinary text stays");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape("a\u{1b}[31mb\u{7}c\nd\te"), "a\\e[31mb\\ac\\nd\\te");
        assert_eq!(quoted("x\"y"), "\"x\\\"y\"");
        let t = table(&[group("1", "evil\u{1b}]0;title\u{7}\nname")], &Labels::default(), None, false);
        assert!(!t.contains('\u{1b}') && !t.contains('\u{7}') && t.lines().count() == 2, "{t}");
    }

    #[test]
    fn json_is_the_api_camel_case_model() {
        let mut out = Vec::new();
        print_group(&mut out, OutputFormat::Json, &group("1", "n"), &Labels::default()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["passwordPolicyId"], "p");
        assert_eq!(v["sourceIds"][1], "b");
        let mut out = Vec::new();
        print_groups(&mut out, OutputFormat::Ndjson, &[group("1", "a"), group("2", "b")], &Labels::default())
            .unwrap();
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    }

    proptest::proptest! {
        #[test]
        fn escaped_text_has_no_control_characters(s in ".*") {
            proptest::prop_assert!(!escape(&s).chars().any(is_invisible));
        }

        #[test]
        fn tables_never_exceed_the_width_when_they_can_fit(name in ".{0,300}", width in 60usize..300) {
            let t = table(&[group("2c9180887d9c0c5e017da4b4f3d2004c", &name)], &Labels::default(), Some(width), false);
            for line in t.lines() {
                proptest::prop_assert!(console::measure_text_width(line) <= width, "{}", line);
            }
        }
    }
}
