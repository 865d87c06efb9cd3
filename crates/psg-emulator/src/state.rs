//! The store of groups, the catalog of known sources and policies, and the
//! optional state file. Every change is written to the file (atomically, see
//! `psg_fs`) before it takes effect in memory: a failed save leaves
//! the store as it was.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The largest state file read at start (1 GiB): what [`crate::config::MAX_GROUPS`]
/// groups with long names take, with room to spare.
pub const MAX_STATE_FILE_BYTES: u64 = 1 << 30;

/// A stored group, in the API's wire format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// 32 lowercase hex digits.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Id of a known policy.
    pub password_policy_id: String,
    /// Ids of two or more known sources.
    pub source_ids: Vec<String>,
    /// `2024-01-02T03:04:05.123Z`.
    pub created: String,
    /// Same form as `created`.
    pub modified: String,
}

/// The fields a client may set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInput {
    /// Display name.
    pub name: String,
    /// Policy id.
    pub password_policy_id: String,
    /// Source ids.
    pub source_ids: Vec<String>,
}

pub use crate::catalog::Catalog;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Persisted {
    next_id: u64,
    groups: Vec<Group>,
}

/// What [`Persisted`] reads, written without copying the groups.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PersistedRef<'a> {
    next_id: u64,
    groups: &'a [Group],
}

/// Groups in creation order, with the id counter.
#[derive(Debug, Default)]
pub struct Store {
    groups: Vec<Group>,
    next_id: u64,
    id_seed: u64,
    file: Option<PathBuf>,
}

/// Now, in the API's timestamp form.
pub fn now_timestamp() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A deterministic, well-mixed 32-hex id for counter value `n` under `seed`
/// (splitmix64; seed 0 gives the historical ids).
fn id_for(n: u64, seed: u64) -> String {
    let finish = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    };
    let n = if seed == 0 { n } else { n ^ crate::catalog::mix(seed) };
    let a = finish(n.wrapping_add(0x9e3779b97f4a7c15));
    let b = finish(a ^ n);
    format!("{a:016x}{b:016x}")
}

impl Store {
    /// An empty store that persists to `file` when given, loading it if it
    /// exists; new ids are generated under `id_seed`.
    pub fn open(file: Option<&Path>, id_seed: u64) -> Result<Self, String> {
        let mut store = Store { file: file.map(Path::to_path_buf), id_seed, ..Store::default() };
        if let Some(path) = file {
            psg_fs::check_writable(path).map_err(|e| {
                format!("cannot write the state file {}: {e}; choose a writable --state path", path.display())
            })?;
        }
        if let Some(path) = file.filter(|p| p.exists()) {
            let size = std::fs::metadata(path)
                .map_err(|e| format!("cannot read state file {}: {e}", path.display()))?
                .len();
            if size > MAX_STATE_FILE_BYTES {
                return Err(format!(
                    "state file {} is {size} bytes; the limit is {MAX_STATE_FILE_BYTES} (about {} groups)",
                    path.display(),
                    crate::config::MAX_GROUPS
                ));
            }
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read state file {}: {e}", path.display()))?;
            let persisted: Persisted = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "state file {} is not valid (line {}): {e}; delete it to start empty",
                    path.display(),
                    e.line()
                )
            })?;
            store.groups = persisted.groups;
            store.next_id = persisted.next_id;
        }
        Ok(store)
    }

    /// All groups in creation order.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The group with `id`.
    pub fn get(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// Stores a new group and returns it.
    pub fn create(&mut self, input: GroupInput) -> Result<Group, String> {
        let now = now_timestamp();
        let next_id = self.next_id + 1;
        let group = Group {
            id: id_for(next_id, self.id_seed),
            name: input.name,
            password_policy_id: input.password_policy_id,
            source_ids: input.source_ids,
            created: now.clone(),
            modified: now,
        };
        let stored = group.clone();
        self.commit(next_id, |groups| groups.push(stored))?;
        Ok(group)
    }

    /// Adds one group per input in a single step with one save. Calls `stop`
    /// every few thousand groups and returns `Ok(false)`, changing nothing,
    /// once it answers true.
    pub fn seed(
        &mut self,
        inputs: impl IntoIterator<Item = GroupInput>,
        stop: impl Fn() -> bool,
    ) -> Result<bool, String> {
        self.fill(false, inputs, stop)
    }

    /// Like [`seed`](Self::seed), but the new groups replace every stored one,
    /// in the same single step: a failed save leaves the old groups.
    pub fn reseed(&mut self, inputs: impl IntoIterator<Item = GroupInput>) -> Result<(), String> {
        self.fill(true, inputs, || false).map(drop)
    }

    fn fill(
        &mut self,
        replace: bool,
        inputs: impl IntoIterator<Item = GroupInput>,
        stop: impl Fn() -> bool,
    ) -> Result<bool, String> {
        let now = now_timestamp();
        let mut next_id = self.next_id;
        let mut added = Vec::new();
        for (i, input) in inputs.into_iter().enumerate() {
            if i % 4096 == 0 && stop() {
                return Ok(false);
            }
            next_id += 1;
            added.push(Group {
                id: id_for(next_id, self.id_seed),
                name: input.name,
                password_policy_id: input.password_policy_id,
                source_ids: input.source_ids,
                created: now.clone(),
                modified: now.clone(),
            });
        }
        if stop() {
            return Ok(false);
        }
        self.commit(next_id, |groups| {
            if replace {
                groups.clear();
            }
            groups.extend(added);
        })?;
        Ok(true)
    }

    /// Replaces the settable fields of group `id`; `None` when unknown.
    pub fn replace(&mut self, id: &str, input: GroupInput) -> Result<Option<Group>, String> {
        let Some(index) = self.groups.iter().position(|g| g.id == id) else { return Ok(None) };
        let mut group = self.groups[index].clone();
        group.name = input.name;
        group.password_policy_id = input.password_policy_id;
        group.source_ids = input.source_ids;
        group.modified = now_timestamp();
        let stored = group.clone();
        self.commit(self.next_id, |groups| groups[index] = stored)?;
        Ok(Some(group))
    }

    /// Removes group `id`; false when unknown.
    pub fn delete(&mut self, id: &str) -> Result<bool, String> {
        let Some(index) = self.groups.iter().position(|g| g.id == id) else { return Ok(false) };
        self.commit(self.next_id, |groups| {
            groups.remove(index);
        })?;
        Ok(true)
    }

    /// Removes every group.
    pub fn clear(&mut self) -> Result<(), String> {
        self.commit(self.next_id, Vec::clear)
    }

    /// Applies `change` to the groups and sets the id counter: with a state
    /// file, the changed state is saved first and takes effect only if the
    /// save succeeded.
    fn commit(&mut self, next_id: u64, change: impl FnOnce(&mut Vec<Group>)) -> Result<(), String> {
        let Some(path) = &self.file else {
            change(&mut self.groups);
            self.next_id = next_id;
            return Ok(());
        };
        let mut groups = self.groups.clone();
        change(&mut groups);
        Self::save(path, next_id, &groups)?;
        self.groups = groups;
        self.next_id = next_id;
        Ok(())
    }

    /// Writes a state to `path` atomically and durably.
    fn save(path: &Path, next_id: u64, groups: &[Group]) -> Result<(), String> {
        let text = serde_json::to_vec_pretty(&PersistedRef { next_id, groups }).map_err(|e| e.to_string())?;
        psg_fs::write_private(path, &text)
            .map_err(|e| format!("cannot save state file {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str) -> GroupInput {
        GroupInput {
            name: name.into(),
            password_policy_id: "p".into(),
            source_ids: vec!["a".into(), "b".into()],
        }
    }

    #[test]
    fn ids_are_32_hex_unique_and_timestamps_have_millis() {
        let mut s = Store::default();
        let a = s.create(input("a")).unwrap();
        let b = s.create(input("b")).unwrap();
        assert_ne!(a.id, b.id);
        assert!(a.id.len() == 32 && a.id.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(a.created, a.modified);
        assert!(
            chrono::NaiveDateTime::parse_from_str(&a.created, "%Y-%m-%dT%H:%M:%S%.3fZ").is_ok(),
            "{}",
            a.created
        );
        assert_eq!(a.created.len(), "2024-01-02T03:04:05.123Z".len());
    }

    #[test]
    fn state_file_round_trips_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut s = Store::open(Some(&path), 0).unwrap();
        let a = s.create(input("a")).unwrap();
        s.create(input("b")).unwrap();
        assert!(s.delete(&a.id).unwrap());
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")], "no temporary file left");
        let reopened = Store::open(Some(&path), 0).unwrap();
        assert_eq!(reopened.groups(), s.groups());
        let mut reopened = reopened;
        let c = reopened.create(input("c")).unwrap();
        assert!(s.groups().iter().all(|g| g.id != c.id), "id counter continues after reload");
        std::fs::write(&path, "{ torn").unwrap();
        assert!(Store::open(Some(&path), 0).unwrap_err().contains("not valid"));
    }

    #[test]
    fn a_failed_save_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let path = sub.join("state.json");
        let mut s = Store::open(Some(&path), 0).unwrap();
        let a = s.create(input("a")).unwrap();
        // Removing the directory makes every save fail, even as root.
        std::fs::remove_dir_all(&sub).unwrap();
        assert!(s.create(input("b")).unwrap_err().contains("cannot save state file"));
        assert!(s.replace(&a.id, input("renamed")).is_err());
        assert!(s.delete(&a.id).is_err());
        assert!(s.clear().is_err());
        assert!(s.reseed([input("c")]).is_err());
        assert!(!s.seed([input("c")], || false).is_ok_and(|done| done));
        assert_eq!(s.groups(), std::slice::from_ref(&a), "nothing took effect");
        // Once the directory is back, the id counter did not move.
        std::fs::create_dir(&sub).unwrap();
        let b = s.create(input("b")).unwrap();
        let mut fresh = Store::default();
        fresh.create(input("x")).unwrap();
        assert_eq!(b.id, fresh.create(input("y")).unwrap().id, "second id, as if no failure happened");
    }

    #[test]
    fn open_refuses_a_state_file_over_the_limit_before_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.json");
        // Sparse: no disk space is used.
        std::fs::File::create(&path).unwrap().set_len(MAX_STATE_FILE_BYTES + 1).unwrap();
        let err = Store::open(Some(&path), 0).unwrap_err();
        assert!(err.contains("limit") && err.contains("huge.json"), "{err}");
    }

    #[test]
    fn reseed_replaces_everything_in_one_step() {
        let mut s = Store::default();
        s.create(input("old")).unwrap();
        s.reseed([input("a"), input("b")]).unwrap();
        assert_eq!(s.groups().iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn open_refuses_an_unwritable_path_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").unwrap();
        let path = file.join("state.json");
        let err = Store::open(Some(&path), 0).unwrap_err();
        assert!(err.contains(&path.display().to_string()) && err.contains("writable"), "{err}");
        let err = Store::open(Some(dir.path()), 0).unwrap_err();
        assert!(err.contains("directory"), "{err}");
    }

    #[test]
    fn id_seed_changes_group_ids_and_zero_keeps_them() {
        let mut zero = Store::default();
        assert_eq!(zero.create(input("a")).unwrap().id, id_for(1, 0));
        let mut seeded = Store::open(None, 9).unwrap();
        let id = seeded.create(input("a")).unwrap().id;
        assert_ne!(id, id_for(1, 0));
        assert_eq!(id.len(), 32);
    }
}
