//! Lists the fixtures so that every test file gets one test per fixture,
//! named after it (a failure says which exchange broke).

use std::fmt::Write;

fn main() {
    println!("cargo:rerun-if-changed=fixtures");
    let mut names: Vec<String> = std::fs::read_dir("fixtures")
        .expect("fixtures directory")
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "json").then_some(())?;
            path.file_stem()?.to_str().map(str::to_string)
        })
        .collect();
    names.sort();
    let mut out = String::from("fixture_tests! {\n");
    for name in &names {
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "fixture name {name:?} must be snake_case"
        );
        writeln!(out, "    {name},").unwrap();
    }
    out.push_str("}\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("fixture_tests.rs");
    std::fs::write(dest, out).unwrap();
}
