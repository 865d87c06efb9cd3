//! Printing groups as a table, JSON, YAML or NDJSON.

use std::io::Write;

use comfy_table::{ContentArrangement, Table, presets};
use psg_ext::Group;

use crate::cli::OutputFormat;
use crate::failure::Failure;

/// Serialises one value in the API's camelCase model.
pub fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("models serialise")
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
fn format_time(t: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A table of groups with aligned columns.
pub fn table(groups: &[Group]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING).set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(["ID", "NAME", "POLICY", "SOURCES", "MODIFIED"]);
    for g in groups {
        t.add_row([
            g.id.clone(),
            g.name.clone(),
            g.password_policy_id.clone(),
            g.source_ids.join(","),
            g.modified.map(format_time).unwrap_or_default(),
        ]);
    }
    let mut out = t.to_string().lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    out.push('\n');
    out
}

/// Prints a list of groups in `format`.
pub fn print_groups(out: &mut impl Write, format: OutputFormat, groups: &[Group]) -> Result<(), Failure> {
    match format {
        OutputFormat::Table => write!(out, "{}", table(groups))?,
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

/// Prints one group in `format`.
pub fn print_group(out: &mut impl Write, format: OutputFormat, group: &Group) -> Result<(), Failure> {
    match format {
        OutputFormat::Table => write!(out, "{}", table(std::slice::from_ref(group)))?,
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
        let t = table(&[group("1", "short"), group("22222", "a much longer name")]);
        let lines: Vec<_> = t.lines().collect();
        let col = |l: &str| l.find("POLICY").or_else(|| l.find(" p ").map(|i| i + 1)).unwrap();
        assert_eq!(col(lines[0]), col(lines[1]));
        assert_eq!(col(lines[1]), col(lines[2]));
    }

    #[test]
    fn json_is_the_api_camel_case_model() {
        let mut out = Vec::new();
        print_group(&mut out, OutputFormat::Json, &group("1", "n")).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["passwordPolicyId"], "p");
        assert_eq!(v["sourceIds"][1], "b");
        let mut out = Vec::new();
        print_groups(&mut out, OutputFormat::Ndjson, &[group("1", "a"), group("2", "b")]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    }
}
