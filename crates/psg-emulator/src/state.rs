//! The store of groups, the catalog of known sources and policies, and the
//! optional state file (written atomically: temp file, then rename).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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

/// Known password-managed source ids and password policy ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    /// Password-managed sources.
    pub source_ids: Vec<String>,
    /// Password policies.
    pub password_policy_ids: Vec<String>,
}

impl Catalog {
    /// Deterministic ids: the same counts always give the same ids.
    pub fn new(sources: usize, policies: usize) -> Self {
        Catalog {
            source_ids: (0..sources).map(|i| format!("2c918084{:024x}", 0x50_0000 + i)).collect(),
            password_policy_ids: (0..policies).map(|i| format!("2c91808d{:024x}", 0x70_0000 + i)).collect(),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Persisted {
    next_id: u64,
    groups: Vec<Group>,
}

/// Groups in creation order, with the id counter.
#[derive(Debug, Default)]
pub struct Store {
    groups: Vec<Group>,
    next_id: u64,
    file: Option<PathBuf>,
}

/// Now, in the API's timestamp form.
pub fn now_timestamp() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A deterministic, well-mixed 32-hex id for counter value `n` (splitmix64).
fn id_for(n: u64) -> String {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    };
    let a = mix(n.wrapping_add(0x9e3779b97f4a7c15));
    let b = mix(a ^ n);
    format!("{a:016x}{b:016x}")
}

impl Store {
    /// An empty store that persists to `file` when given, loading it if it exists.
    pub fn open(file: Option<&Path>) -> Result<Self, String> {
        let mut store = Store { file: file.map(Path::to_path_buf), ..Store::default() };
        if let Some(path) = file.filter(|p| p.exists()) {
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
        self.next_id += 1;
        let group = Group {
            id: id_for(self.next_id),
            name: input.name,
            password_policy_id: input.password_policy_id,
            source_ids: input.source_ids,
            created: now.clone(),
            modified: now,
        };
        self.groups.push(group.clone());
        self.save()?;
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
        let now = now_timestamp();
        let mut next_id = self.next_id;
        let mut added = Vec::new();
        for (i, input) in inputs.into_iter().enumerate() {
            if i % 4096 == 0 && stop() {
                return Ok(false);
            }
            next_id += 1;
            added.push(Group {
                id: id_for(next_id),
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
        self.groups.extend(added);
        self.next_id = next_id;
        self.save()?;
        Ok(true)
    }

    /// Replaces the settable fields of group `id`; `None` when unknown.
    pub fn replace(&mut self, id: &str, input: GroupInput) -> Result<Option<Group>, String> {
        let Some(group) = self.groups.iter_mut().find(|g| g.id == id) else { return Ok(None) };
        group.name = input.name;
        group.password_policy_id = input.password_policy_id;
        group.source_ids = input.source_ids;
        group.modified = now_timestamp();
        let group = group.clone();
        self.save()?;
        Ok(Some(group))
    }

    /// Removes group `id`; false when unknown.
    pub fn delete(&mut self, id: &str) -> Result<bool, String> {
        let before = self.groups.len();
        self.groups.retain(|g| g.id != id);
        if self.groups.len() == before {
            return Ok(false);
        }
        self.save()?;
        Ok(true)
    }

    /// Removes every group.
    pub fn clear(&mut self) -> Result<(), String> {
        self.groups.clear();
        self.save()
    }

    /// Writes the state file, if any, through a temporary file and a rename so
    /// that a crash never leaves a torn file.
    fn save(&self) -> Result<(), String> {
        let Some(path) = &self.file else { return Ok(()) };
        let persisted = Persisted { next_id: self.next_id, groups: self.groups.clone() };
        let text = serde_json::to_vec_pretty(&persisted).map_err(|e| e.to_string())?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
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
        let dir = std::env::temp_dir().join(format!("psg-emu-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        let _ = std::fs::remove_file(&path);
        let mut s = Store::open(Some(&path)).unwrap();
        let a = s.create(input("a")).unwrap();
        s.create(input("b")).unwrap();
        assert!(s.delete(&a.id).unwrap());
        assert!(!path.with_extension("tmp").exists(), "temp file is renamed away");
        let reopened = Store::open(Some(&path)).unwrap();
        assert_eq!(reopened.groups(), s.groups());
        let mut reopened = reopened;
        let c = reopened.create(input("c")).unwrap();
        assert!(s.groups().iter().all(|g| g.id != c.id), "id counter continues after reload");
        std::fs::write(&path, "{ torn").unwrap();
        assert!(Store::open(Some(&path)).unwrap_err().contains("not valid"));
    }

    #[test]
    fn catalog_is_deterministic() {
        assert_eq!(Catalog::new(3, 2), Catalog::new(3, 2));
        assert!(Catalog::new(3, 2).source_ids.iter().all(|s| s.len() == 32));
    }
}
