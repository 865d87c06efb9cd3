//! The one table renderer of psg (groups, sources, policies): aligned columns
//! that fit a width.
//!
//! When the rows are wider than the width, columns give way in this order:
//! 1. [`Fit::Drop`] columns are left out, rightmost first (e.g. MODIFIED);
//! 2. [`Fit::Cut`] columns are cut, widest first, down to their header (at
//!    least [`MIN_CUT`] cells), ending in `…` (e.g. POLICY, SOURCES);
//! 3. `Cut` columns are left out, rightmost first, when that lets the names
//!    fit whole;
//! 4. otherwise [`Fit::Name`] columns are cut down to [`MIN_NAME`] cells (the
//!    `Cut` columns keep their narrowest width), and when even that is too
//!    wide the `Cut` columns are left out after all.
//!
//! [`Fit::Whole`] columns (ids) are never cut: a cut id cannot be copied into
//! another command. When even they do not fit, lines are longer than the width.

/// How a column gives way to a narrow width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Never cut (ids, short flags).
    Whole,
    /// Cut last, once every `Cut` column is gone.
    Name,
    /// Cut first, then left out.
    Cut,
    /// Left out before anything is cut.
    Drop,
}

/// One column: its header and how it fits.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The header text.
    pub header: &'static str,
    /// How it gives way.
    pub fit: Fit,
}

impl Column {
    /// A column.
    pub const fn new(header: &'static str, fit: Fit) -> Self {
        Column { header, fit }
    }
}

/// Narrowest a cut `Cut` column gets.
pub const MIN_CUT: usize = 6;
/// Narrowest a cut `Name` column gets.
pub const MIN_NAME: usize = 12;
/// Between columns.
const GAP: &str = "  ";

/// The width tables fit: `COLUMNS` when set to a positive number, else the
/// terminal's when stdout is one, else none (a pipe or file gets whole cells).
pub fn width() -> Option<usize> {
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok())
        && cols > 0
    {
        return Some(cols);
    }
    crate::output::terminal_width()
}

fn total(widths: &[usize], shown: &[bool]) -> usize {
    let n = shown.iter().filter(|s| **s).count();
    widths.iter().zip(shown).filter(|(_, s)| **s).map(|(w, _)| w).sum::<usize>()
        + GAP.len() * n.saturating_sub(1)
}

/// Cuts the shown columns of class `fit`, widest first, until the total fits `limit` or they are at their minimum.
fn shrink(widths: &mut [usize], shown: &[bool], mins: &[usize], columns: &[Column], fit: Fit, limit: usize) {
    while total(widths, shown) > limit {
        let widest = (0..columns.len())
            .filter(|&i| shown[i] && columns[i].fit == fit && widths[i] > mins[i])
            .max_by_key(|&i| (widths[i], std::cmp::Reverse(i)));
        match widest {
            Some(i) => widths[i] -= 1,
            None => break,
        }
    }
}

/// Which columns are shown and how wide, for `natural` widths within `limit`.
fn layout(columns: &[Column], natural: &[usize], limit: Option<usize>) -> (Vec<bool>, Vec<usize>) {
    let mut shown = vec![true; columns.len()];
    let Some(limit) = limit else { return (shown, natural.to_vec()) };
    let rightmost =
        |shown: &[bool], fit: Fit| (0..columns.len()).rev().find(|&i| shown[i] && columns[i].fit == fit);
    let mins: Vec<usize> = columns
        .iter()
        .zip(natural)
        .map(|(c, &n)| {
            let floor = match c.fit {
                Fit::Name => MIN_NAME,
                _ => MIN_CUT,
            };
            n.min(floor.max(console::measure_text_width(c.header)))
        })
        .collect();
    loop {
        if total(natural, &shown) <= limit {
            return (shown, natural.to_vec());
        }
        if let Some(i) = rightmost(&shown, Fit::Drop) {
            shown[i] = false;
            continue;
        }
        let mut widths = natural.to_vec();
        shrink(&mut widths, &shown, &mins, columns, Fit::Cut, limit);
        if total(&widths, &shown) <= limit {
            return (shown, widths);
        }
        // Leaving the cut columns out helps only when the names then fit whole.
        let without_cut: Vec<bool> =
            (0..columns.len()).map(|i| shown[i] && columns[i].fit != Fit::Cut).collect();
        if total(natural, &without_cut) <= limit
            && let Some(i) = rightmost(&shown, Fit::Cut)
        {
            shown[i] = false;
            continue;
        }
        shrink(&mut widths, &shown, &mins, columns, Fit::Name, limit);
        // Still too wide with the names at their narrowest: the cut columns go after all.
        if total(&widths, &shown) > limit
            && let Some(i) = rightmost(&shown, Fit::Cut)
        {
            shown[i] = false;
            continue;
        }
        return (shown, widths);
    }
}

/// `rows` (cells already escaped) under `columns`, fitted to `width` (none: nothing is cut or left out).
pub fn render(columns: &[Column], rows: &[Vec<String>], width: Option<usize>) -> String {
    let mut natural: Vec<usize> = columns.iter().map(|c| console::measure_text_width(c.header)).collect();
    for row in rows {
        for (w, cell) in natural.iter_mut().zip(row) {
            *w = (*w).max(console::measure_text_width(cell));
        }
    }
    let (shown, widths) = layout(columns, &natural, width);
    let visible: Vec<usize> = (0..columns.len()).filter(|&i| shown[i]).collect();
    let header: Vec<String> = columns.iter().map(|c| c.header.to_string()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (k, &i) in visible.iter().enumerate() {
            let cell = row.get(i).map(String::as_str).unwrap_or_default();
            let cell = console::truncate_str(cell, widths[i], "…");
            line.push_str(&cell);
            if k + 1 < visible.len() {
                line.push_str(&" ".repeat(widths[i].saturating_sub(console::measure_text_width(&cell))));
                line.push_str(GAP);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 5] = [
        Column::new("ID", Fit::Whole),
        Column::new("NAME", Fit::Name),
        Column::new("POLICY", Fit::Cut),
        Column::new("SOURCES", Fit::Cut),
        Column::new("MODIFIED", Fit::Drop),
    ];

    fn row(name: &str, sources: &str) -> Vec<String> {
        vec![
            "2c9180887d9c0c5e017da4b4f3d2004c".into(),
            name.into(),
            "Corporate Password Policy".into(),
            sources.into(),
            "2026-12-03 17:00:00".into(),
        ]
    }

    #[test]
    fn modified_goes_first_then_policy_and_sources_are_cut() {
        let rows = vec![row("Finance", "Active Directory, Workday, LDAP")];
        let wide = render(&COLUMNS, &rows, Some(200));
        assert!(wide.contains("MODIFIED") && !wide.contains('…'), "{wide}");
        let t = render(&COLUMNS, &rows, Some(110));
        assert!(!t.contains("MODIFIED") && !t.contains('…'), "dropped, nothing cut: {t}");
        let t = render(&COLUMNS, &rows, Some(80));
        assert!(!t.contains("MODIFIED") && t.contains('…') && t.contains(" Finance "), "{t}");
        assert!(t.lines().all(|l| console::measure_text_width(l) <= 80), "{t}");
        assert!(t.lines().nth(1).unwrap().starts_with("2c9180887d9c0c5e017da4b4f3d2004c  Finance"), "{t}");
    }

    #[test]
    fn names_stay_whole_until_the_cut_columns_are_gone() {
        let name = "n".repeat(40);
        let t = render(&COLUMNS, &[row(&name, "a, b")], Some(80));
        assert!(t.contains(&name), "{t}");
        assert!(t.lines().all(|l| console::measure_text_width(l) <= 80), "{t}");
        let long = "n".repeat(36);
        let t = render(&COLUMNS, &[row(&long, "a, b")], Some(80));
        assert!(t.contains(&long) && !t.contains("SOURCES") && t.contains("POLICY"), "SOURCES left out: {t}");
        let longer = "n".repeat(60);
        let t = render(&COLUMNS, &[row(&longer, "a, b")], Some(80));
        assert!(
            t.contains("POLICY") && t.contains("SOURCES") && !t.contains(&longer),
            "names cut instead: {t}"
        );
        assert!(t.lines().all(|l| console::measure_text_width(l) <= 80), "{t}");
        // Narrower than an id: the id stays whole.
        let t = render(&COLUMNS, &[row("x", "a")], Some(20));
        assert!(t.contains("2c9180887d9c0c5e017da4b4f3d2004c"), "{t}");
    }

    proptest::proptest! {
        #[test]
        fn lines_fit_whenever_id_and_a_short_name_do(name in ".{0,200}", sources in ".{0,200}", width in 48usize..300) {
            let cells = row(&crate::output::escape(&name), &crate::output::escape(&sources));
            let t = render(&COLUMNS, &[cells], Some(width));
            for line in t.lines() {
                proptest::prop_assert!(console::measure_text_width(line) <= width, "{}", line);
            }
            proptest::prop_assert!(t.lines().nth(1).unwrap_or_default().starts_with("2c9180887d9c0c5e017da4b4f3d2004c  "));
        }
    }
}
