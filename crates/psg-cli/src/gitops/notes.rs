//! Notes a plan prints on stderr (`note: …`) about what the file probably
//! meant but does not say: a name that differs from a tenant group's only in
//! case or Unicode normalisation (the plan creates a new group and, with
//! `--prune`, deletes the old one: `renamedFrom` would keep its id), and a
//! `renamedFrom` the plan ignores, with the reason. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use icu_normalizer::ComposingNormalizerBorrowed;

use crate::gitops::desired::DesiredGroup;
use crate::gitops::tenant::Group;
use crate::output::quoted;

/// The text for names equal but for case (as the issue states it).
pub const CASE: &str = "names differ only in case: use renamedFrom to keep the id";
/// The text for names equal but for Unicode normalisation.
pub const NORMALISATION: &str = "names differ only in Unicode normalisation: use renamedFrom to keep the id";
/// The text for names equal but for both.
pub const CASE_AND_NORMALISATION: &str =
    "names differ only in case and Unicode normalisation: use renamedFrom to keep the id";

/// NFKC: compatibility forms (full-width letters, ligatures) and composed accents alike.
fn nfkc(name: &str) -> String {
    ComposingNormalizerBorrowed::new_nfkc().normalize(name).into_owned()
}

/// The key two names share when they differ only in case or normalisation.
fn fold(name: &str) -> String {
    nfkc(&nfkc(name).to_lowercase())
}

/// Why `a` and `b` (different, with the same [`fold`]) look alike.
fn likeness(a: &str, b: &str) -> &'static str {
    if a.to_lowercase() == b.to_lowercase() {
        CASE
    } else if nfkc(a) == nfkc(b) {
        NORMALISATION
    } else {
        CASE_AND_NORMALISATION
    }
}

/// The notes for planning `desired` against `actual`, in file order.
pub fn notes(desired: &[DesiredGroup], actual: &[Group]) -> Vec<String> {
    let mut by_name: BTreeMap<&str, Vec<&Group>> = BTreeMap::new();
    let mut by_fold: BTreeMap<String, Vec<&Group>> = BTreeMap::new();
    for g in actual {
        by_name.entry(g.fields.name.as_str()).or_default().push(g);
        by_fold.entry(fold(&g.fields.name)).or_default().push(g);
    }
    let ids = |groups: &[&Group]| groups.iter().map(|g| g.id.as_str()).collect::<Vec<_>>().join(", ");
    // Tenant groups some entry keeps (by its name, or by a renamedFrom that applies).
    let mut kept: BTreeSet<&str> = BTreeSet::new();
    for d in desired {
        if by_name.contains_key(d.name.as_str()) {
            kept.insert(d.name.as_str());
        } else if let Some(old) = d.renamed_from.as_deref().filter(|old| by_name.contains_key(old)) {
            kept.insert(old);
        }
    }
    let mut sorted: Vec<&DesiredGroup> = desired.iter().collect();
    sorted.sort_by_key(|d| d.line);
    let mut notes = Vec::new();
    for d in sorted {
        let name = quoted(&d.name);
        if let Some(old) = &d.renamed_from {
            match (by_name.get(d.name.as_str()), by_name.get(old.as_str())) {
                (Some(existing), _) => notes.push(format!(
                    "{name}: renamedFrom {} is ignored: the tenant already has a group named {name} ({}), which is updated instead",
                    quoted(old),
                    ids(existing)
                )),
                (None, None) => {
                    let alike: Vec<&Group> = by_fold
                        .get(&fold(old))
                        .map(|gs| gs.iter().copied().filter(|g| !kept.contains(g.fields.name.as_str())).collect())
                        .unwrap_or_default();
                    let hint = match alike.as_slice() {
                        [g, ..] => format!(
                            "; the tenant's {} ({}) differs from it only in {}: write renamedFrom: {}",
                            quoted(&g.fields.name),
                            g.id,
                            what_differs(old, &g.fields.name),
                            quoted(&g.fields.name)
                        ),
                        [] => " (renamed already?)".to_string(),
                    };
                    notes.push(format!(
                        "{name}: renamedFrom {} is ignored: the tenant has no group named {}, so {name} is created{hint}",
                        quoted(old),
                        quoted(old)
                    ));
                }
                (None, Some(_)) => {}
            }
            continue;
        }
        if by_name.contains_key(d.name.as_str()) {
            continue;
        }
        let Some(alike) = by_fold.get(&fold(&d.name)) else { continue };
        for g in alike.iter().filter(|g| !kept.contains(g.fields.name.as_str())) {
            notes.push(format!(
                "{name} in the file and {} in the tenant ({}): {}",
                quoted(&g.fields.name),
                g.id,
                likeness(&d.name, &g.fields.name)
            ));
        }
    }
    notes
}

/// `case`, `Unicode normalisation` or both, for the renamedFrom hint.
fn what_differs(a: &str, b: &str) -> &'static str {
    match likeness(a, b) {
        CASE => "case",
        NORMALISATION => "Unicode normalisation",
        _ => "case and Unicode normalisation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops::tenant::Fields;

    fn tenant(id: &str, name: &str) -> Group {
        Group {
            id: id.into(),
            fields: Fields {
                name: name.into(),
                password_policy_id: "p".into(),
                source_ids: vec!["a".into(), "b".into()],
            },
        }
    }

    fn file(text: &str) -> Vec<DesiredGroup> {
        crate::gitops::desired::parse("f.yaml", text).unwrap()
    }

    fn entry(name: &str, renamed_from: Option<&str>) -> String {
        let q = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let from = renamed_from.map(|r| format!("  renamedFrom: {}\n", q(r))).unwrap_or_default();
        format!("- name: {}\n{from}  passwordPolicyId: p\n  sourceIds: [a, b]\n", q(name))
    }

    #[test]
    fn a_name_that_differs_only_in_case_gets_the_issues_note() {
        let notes = notes(&file(&format!("groups:\n{}", entry("finance", None))), &[tenant("g1", "Finance")]);
        assert_eq!(
            notes,
            [
                r#""finance" in the file and "Finance" in the tenant (g1): names differ only in case: use renamedFrom to keep the id"#
            ]
        );
    }

    #[test]
    fn names_that_differ_only_in_normalisation_are_noted_too() {
        // "é" composed in the tenant, decomposed (e + U+0301) in the file; full-width letters.
        let tenant_groups = [tenant("g1", "Caf\u{e9}"), tenant("g2", "HR")];
        let text = format!("groups:\n{}{}", entry("Cafe\u{301}", None), entry("\u{ff28}\u{ff32}", None));
        let notes = notes(&file(&text), &tenant_groups);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].ends_with(NORMALISATION) && notes[0].contains("(g1)"), "{notes:?}");
        assert!(notes[1].ends_with(NORMALISATION) && notes[1].contains("(g2)"), "{notes:?}");
        let both = notes_for("CAFE\u{301}", &tenant_groups);
        assert!(both[0].ends_with(CASE_AND_NORMALISATION), "{both:?}");
    }

    fn notes_for(name: &str, actual: &[Group]) -> Vec<String> {
        notes(&file(&format!("groups:\n{}", entry(name, None))), actual)
    }

    #[test]
    fn exact_matches_and_groups_kept_by_another_entry_get_no_note() {
        assert!(notes_for("Finance", &[tenant("g1", "Finance")]).is_empty());
        assert!(notes_for("Other", &[tenant("g1", "Finance")]).is_empty());
        // "Finance" is kept by its own entry: "FINANCE" is a new group on purpose.
        let text = format!("groups:\n{}{}", entry("Finance", None), entry("FINANCE", None));
        assert!(notes(&file(&text), &[tenant("g1", "Finance")]).is_empty());
        // A renamedFrom that applies is no note either.
        let text = format!("groups:\n{}", entry("Finance EU", Some("Finance")));
        assert!(notes(&file(&text), &[tenant("g1", "Finance")]).is_empty());
    }

    #[test]
    fn an_ignored_renamed_from_says_why() {
        let text = format!("groups:\n{}", entry("Finance", Some("Money")));
        let notes_taken = notes(&file(&text), &[tenant("g1", "Finance"), tenant("g2", "Money")]);
        assert_eq!(
            notes_taken,
            [
                r#""Finance": renamedFrom "Money" is ignored: the tenant already has a group named "Finance" (g1), which is updated instead"#
            ]
        );
        let gone = notes(&file(&text), &[tenant("g3", "Other")]);
        assert_eq!(
            gone,
            [
                r#""Finance": renamedFrom "Money" is ignored: the tenant has no group named "Money", so "Finance" is created (renamed already?)"#
            ]
        );
        let cased = notes(&file(&text), &[tenant("g4", "money")]);
        assert_eq!(cased.len(), 1);
        assert!(
            cased[0].ends_with(
                r#"the tenant's "money" (g4) differs from it only in case: write renamedFrom: "money""#
            ),
            "{cased:?}"
        );
    }

    proptest::proptest! {
        #[test]
        fn notes_never_panic_and_only_name_groups_that_fold_alike(
            a in "\\PC{0,12}", b in "\\PC{0,12}"
        ) {
            let d = DesiredGroup {
                name: a.clone(),
                password_policy_id: "p".into(),
                source_ids: vec!["x".into(), "y".into()],
                renamed_from: None,
                line: 1,
                policy_name: None,
                source_names: None,
            };
            let found = notes(&[d], &[tenant("g", &b)]);
            proptest::prop_assert_eq!(found.len(), usize::from(a != b && fold(&a) == fold(&b)));
        }
    }
}
