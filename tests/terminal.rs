//! Terminal behaviours of the real `psg` binary, run in a pseudo-terminal
//! with `script` from util-linux (present wherever the e2e tests run; the
//! alternative, a pty crate, would add a dependency for the same result):
//! tables cut to the terminal's width, colour only there, names that cannot
//! drive the terminal, prompts that name groups, a progress bar that never
//! mixes with streamed lines.

use std::process::Stdio;

use psg_e2e::*;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

/// Runs `psg ARGS` inside a pseudo-terminal `cols` wide, with `env` added
/// and `input` typed on the terminal. Returns what the terminal showed
/// (stdout and stderr together, `\r\n` made `\n`).
async fn in_terminal(base: &str, cols: u16, env: &[(&str, &str)], args: &[&str], input: &str) -> Run {
    let psg = binary("psg");
    let quoted: Vec<String> = args.iter().map(|a| format!("'{}'", a.replace('\'', "'\\''"))).collect();
    let inner = format!("stty cols {cols} rows 50; exec '{}' {}", psg.display(), quoted.join(" "));
    let mut cmd = tokio::process::Command::new("script");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PSG_CONFIG", "/nonexistent/psg-config.toml")
        .env("TERM", "xterm")
        .env("SAIL_BASE_URL", base)
        .env("SAIL_CLIENT_ID", "psg-demo")
        .env("SAIL_CLIENT_SECRET", DEMO_SECRET)
        .args(["-qec", &inner, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("script (util-linux) runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    // Keep stdin open until the command ends: script stops at EOF.
    let out = child.wait_with_output();
    let out = out.await.unwrap();
    drop(stdin);
    let mut run = Run::from(out);
    run.stdout = run.stdout.replace("\r\n", "\n");
    run
}

fn has_ansi(text: &str) -> bool {
    text.contains('\u{1b}')
}

#[tokio::test]
async fn tables_fit_the_terminal_and_wide_or_a_pipe_shows_everything() {
    let emu = emulator(|b| b).await;
    let base = emu.base_url();
    let cat = emu.catalog();
    let long = format!("Finance {}", "and payroll ".repeat(12)).trim_end().to_string();
    psg(
        Some(&base),
        &[
            "groups",
            "create",
            "--name",
            &long,
            "--policy",
            &cat.password_policy_ids[0],
            "--source",
            &cat.source_ids[0],
            "--source",
            &cat.source_ids[1],
        ],
    )
    .await
    .ok();

    let narrow = in_terminal(&base, 80, &[], &["groups", "list"], "").await;
    assert_eq!(narrow.code, 0, "{}", narrow.stdout);
    let lines: Vec<&str> = narrow.stdout.lines().filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("ID"), "{}", narrow.stdout);
    for line in &lines {
        assert!(line.chars().count() <= 80, "wider than the terminal: {line:?}");
    }
    assert!(narrow.stdout.contains('…'), "{}", narrow.stdout);
    assert!(!narrow.stdout.contains(&long));

    let wide = in_terminal(&base, 80, &[], &["groups", "list", "-o", "wide"], "").await;
    assert!(wide.stdout.contains(&long) && wide.stdout.contains("CREATED"), "{}", wide.stdout);

    // Not a terminal: never cut.
    let piped = psg(Some(&base), &["groups", "list", "-o", "table"]).await;
    assert!(piped.ok().contains(&long) && !piped.stdout.contains('…'), "{}", piped.stdout);
}

#[tokio::test]
async fn control_characters_in_names_are_escaped_in_tables_and_errors() {
    let emu = emulator(|b| b).await;
    let base = emu.base_url();
    let cat = emu.catalog();
    let evil = "Evil\u{1b}]0;pwned\u{7}\u{1b}[2J\tname";
    psg(
        Some(&base),
        &[
            "groups",
            "create",
            "--name",
            evil,
            "--policy",
            &cat.password_policy_ids[0],
            "--source",
            &cat.source_ids[0],
            "--source",
            &cat.source_ids[1],
        ],
    )
    .await
    .ok();
    let table = psg(Some(&base), &["groups", "list", "-o", "table"]).await;
    assert!(!table.ok().contains('\u{1b}') && !table.stdout.contains('\u{7}'), "{:?}", table.stdout);
    assert!(table.stdout.contains("Evil\\e]0;pwned\\a\\e[2J\\tname"), "{:?}", table.stdout);
    // JSON keeps the data exact (escaped by JSON itself).
    let json = psg(Some(&base), &["groups", "list", "-o", "json"]).await;
    assert_eq!(serde_json::from_str::<Value>(json.ok()).unwrap()[0]["name"], evil);

    // An error message naming it.
    let again = psg(
        Some(&base),
        &[
            "groups",
            "create",
            "--name",
            evil,
            "--policy",
            &cat.password_policy_ids[0],
            "--source",
            &cat.source_ids[0],
            "--source",
            &cat.source_ids[1],
        ],
    )
    .await;
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(!again.stderr.contains('\u{1b}') && !again.stderr.contains('\u{7}'), "{:?}", again.stderr);
    let missing = psg(Some(&base), &["groups", "get", "--name", "x\u{1b}[31my"]).await;
    assert!(missing.stderr.contains("x\\e[31my"), "{:?}", missing.stderr);
}

fn plan_file(emu: &psg_emulator::EmulatorHandle) -> std::path::PathBuf {
    let cat = emu.catalog();
    let (p, s) = (&cat.password_policy_ids, &cat.source_ids);
    let file = temp_dir("colour").join("groups.yaml");
    std::fs::write(
        &file,
        format!(
            "groups:\n  - name: Created\n    passwordPolicyId: {}\n    sourceIds: [{}, {}]\n  - name: Kept\n    passwordPolicyId: {}\n    sourceIds: [{}, {}]\n",
            p[0], s[0], s[1], p[1], s[2], s[3]
        ),
    )
    .unwrap();
    file
}

#[tokio::test]
async fn plan_is_coloured_on_a_terminal_only_and_no_color_turns_it_off() {
    let emu = emulator(|b| b.groups(2)).await;
    let base = emu.base_url();
    let cat = emu.catalog();
    let file = plan_file(&emu);
    // "Kept" exists with other sources: an update; the 2 seeded groups: deletes.
    psg(
        Some(&base),
        &[
            "groups",
            "create",
            "--name",
            "Kept",
            "--policy",
            &cat.password_policy_ids[1],
            "--source",
            &cat.source_ids[0],
            "--source",
            &cat.source_ids[4],
        ],
    )
    .await
    .ok();
    let f = file.to_str().unwrap();
    let tty = in_terminal(&base, 200, &[], &["plan", "-f", f, "--prune"], "").await;
    assert_eq!(tty.code, 0, "{}", tty.stdout);
    assert!(tty.stdout.contains("\u{1b}[32m+ create"), "green create: {:?}", tty.stdout);
    assert!(tty.stdout.contains("\u{1b}[33m~ update"), "yellow update: {:?}", tty.stdout);
    assert!(tty.stdout.contains("\u{1b}[31m- delete"), "red delete: {:?}", tty.stdout);

    let no_color = in_terminal(&base, 200, &[("NO_COLOR", "1")], &["plan", "-f", f, "--prune"], "").await;
    assert!(no_color.stdout.contains("+ create") && !has_ansi(&no_color.stdout), "{:?}", no_color.stdout);

    let piped = psg(Some(&base), &["plan", "-f", f, "--prune"]).await;
    assert!(piped.ok().contains("+ create") && !has_ansi(&piped.stdout), "{:?}", piped.stdout);
}

#[tokio::test]
async fn logs_to_a_file_or_pipe_carry_no_ansi_but_a_terminal_gets_colour() {
    let emu = emulator(|b| b.groups(3)).await;
    let base = emu.base_url();
    let piped = psg(Some(&base), &["-vv", "groups", "list", "-o", "json"]).await;
    assert!(piped.ok().len() > 2 && piped.stderr.contains("http request"), "{}", piped.stderr);
    assert!(!has_ansi(&piped.stderr), "{:?}", piped.stderr);

    let log = temp_dir("log").join("psg.log");
    let shell = format!("'{}' -vv groups list -o json 2> '{}'", binary("psg").display(), log.display());
    let run = Run::from(
        tokio::process::Command::new("sh")
            .env_clear()
            .env("PSG_CONFIG", "/nonexistent")
            .env("SAIL_BASE_URL", &base)
            .env("SAIL_CLIENT_ID", "psg-demo")
            .env("SAIL_CLIENT_SECRET", DEMO_SECRET)
            .args(["-c", &shell])
            .output()
            .await
            .unwrap(),
    );
    run.ok();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("http request") && !has_ansi(&text), "{text:?}");

    let tty = in_terminal(&base, 200, &[], &["-v", "groups", "list", "-o", "json"], "").await;
    assert!(tty.stdout.contains("http request") && has_ansi(&tty.stdout), "{:?}", tty.stdout);
    let plain =
        in_terminal(&base, 200, &[("NO_COLOR", "1")], &["-v", "groups", "list", "-o", "json"], "").await;
    assert!(plain.stdout.contains("http request") && !has_ansi(&plain.stdout), "{:?}", plain.stdout);
}

#[tokio::test]
async fn the_delete_prompt_names_the_groups() {
    let emu = emulator(|b| b.groups(2)).await;
    let base = emu.base_url();
    let groups = emu.groups();
    let run = in_terminal(&base, 200, &[], &["groups", "delete", &groups[0].id, &groups[1].id], "n\n").await;
    assert_eq!(run.code, 2, "answered no: {}", run.stdout);
    for g in &groups {
        assert!(run.stdout.contains(&format!("\"{}\" ({})", g.name, g.id)), "{}", run.stdout);
    }
    assert!(run.stdout.contains("[y/N]"), "{}", run.stdout);
    assert_eq!(emu.groups().len(), 2, "nothing deleted");

    let yes = in_terminal(&base, 200, &[], &["groups", "delete", &groups[0].id], "y\n").await;
    assert_eq!(yes.code, 0, "{}", yes.stdout);
    assert_eq!(emu.groups().len(), 1);
}

#[tokio::test]
async fn the_progress_bar_never_mixes_with_streamed_lines() {
    let emu = emulator(|b| b.groups(1500).latency("2".parse().unwrap())).await;
    let base = emu.base_url();
    let run = in_terminal(&base, 120, &[], &["groups", "list", "--all", "-o", "ndjson"], "").await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let lines: Vec<&str> = run.stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1500, "one clean line per group");
    for line in lines {
        assert!(serde_json::from_str::<Value>(line).is_ok(), "not a clean JSON line: {line:?}");
    }

    // apply prints each change as it completes, with the bar suspended around it.
    let cat = emu.catalog();
    let file = temp_dir("bar").join("groups.yaml");
    let mut text = String::from("groups:\n");
    for i in 0..40 {
        text.push_str(&format!(
            "  - name: New {i}\n    passwordPolicyId: {}\n    sourceIds: [{}, {}]\n",
            cat.password_policy_ids[0], cat.source_ids[0], cat.source_ids[1]
        ));
    }
    std::fs::write(&file, text).unwrap();
    let run = in_terminal(&base, 120, &[], &["apply", "-f", file.to_str().unwrap(), "--yes"], "").await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let created: Vec<&str> = run.stdout.lines().filter(|l| l.contains("created \"New")).collect();
    assert_eq!(created.len(), 40, "{}", run.stdout);
    for line in created {
        let clean = line.rsplit('\r').next().unwrap().replace("\u{1b}[2K", "");
        assert!(clean.starts_with("created \"New"), "bar fragments on a streamed line: {line:?}");
    }
}
