//! Durable, atomic file writes: the whole new content or the old one, never a
//! torn file, and no stray temporary file left behind.
//!
//! [`write_atomic`] writes to a fresh, randomly named temporary file in the
//! target's own directory (so the final rename stays within one file system),
//! gives it the target's permissions, flushes it to disk, renames it over the
//! target and flushes the directory. A symlink is followed: its final target
//! is replaced and the link stays a link. On any failure the temporary file is
//! removed and the target is untouched.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// How many symlinks [`resolve`] follows before giving up (as the kernel does).
const MAX_LINKS: usize = 40;

/// Follows `path` through symlinks to the file that should be replaced; a
/// path that does not exist (yet) is its own target.
pub fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other(format!("{}: too many levels of symbolic links", path.display())))
}

/// The directory a temporary file for `target` goes in.
fn directory_of(target: &Path) -> &Path {
    match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A temporary file next to `target`, named after it with a random part.
fn temp_next_to(target: &Path) -> io::Result<tempfile::NamedTempFile> {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(directory_of(target))
}

/// Replaces the content of `path` (or of the file its symlinks lead to) with
/// `bytes`, atomically and durably. An existing target keeps its permissions;
/// a new one is readable and writable by its owner only.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let target = resolve(path)?;
    let mut temp = temp_next_to(&target)?;
    temp.write_all(bytes)?;
    if let Ok(meta) = fs::metadata(&target) {
        temp.as_file().set_permissions(meta.permissions())?;
    }
    temp.as_file().sync_all()?;
    // On failure, `PersistError` hands the temporary file back; dropping it removes it.
    temp.persist(&target).map_err(|e| e.error)?;
    sync_directory(directory_of(&target));
    Ok(())
}

/// Checks that `path` could be written by [`write_atomic`]: its directory takes
/// a new file and an existing target can be opened for writing. Changes nothing.
pub fn check_writable(path: &Path) -> io::Result<()> {
    let target = resolve(path)?;
    if target.is_dir() {
        return Err(io::Error::other("it is a directory"));
    }
    drop(temp_next_to(&target)?);
    if target.exists() {
        fs::OpenOptions::new().append(true).open(&target)?;
    }
    Ok(())
}

/// Makes a rename in `dir` durable; best effort (not every platform can
/// open a directory).
fn sync_directory(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_new_and_replaces_existing_leaving_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write_atomic(&path, b"one").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(entries(dir.path()), vec!["state.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions_and_follows_symlinks() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let dir = tempfile::tempdir().unwrap();
        let real_dir = dir.path().join("real");
        fs::create_dir(&real_dir).unwrap();
        let real = real_dir.join("state.json");
        fs::write(&real, "old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.json");
        symlink("real/state.json", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert_eq!(fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o640);
        assert_eq!(entries(&real_dir), vec!["state.json"]);
        // A dangling link gets its target created.
        let dangling = dir.path().join("dangling.json");
        symlink("real/fresh.json", &dangling).unwrap();
        write_atomic(&dangling, b"x").unwrap();
        assert_eq!(fs::read(real_dir.join("fresh.json")).unwrap(), b"x");
        // A loop is an error, not a hang.
        symlink("loop-b", dir.path().join("loop-a")).unwrap();
        symlink("loop-a", dir.path().join("loop-b")).unwrap();
        assert!(write_atomic(&dir.path().join("loop-a"), b"x").is_err());
    }

    #[test]
    fn failure_leaves_target_and_directory_untouched() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a non-empty directory: the rename fails after the temp file exists.
        let target = dir.path().join("busy");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inside"), "x").unwrap();
        assert!(write_atomic(&target, b"new").is_err());
        assert_eq!(entries(dir.path()), vec!["busy"], "no temporary file left behind");
        // A parent that is a file: nothing can be created.
        let file = dir.path().join("plain");
        fs::write(&file, "x").unwrap();
        assert!(write_atomic(&file.join("state.json"), b"new").is_err());
        assert!(check_writable(&file.join("state.json")).is_err());
        assert!(check_writable(&target).is_err());
        assert!(check_writable(&dir.path().join("ok.json")).is_ok());
        assert!(!dir.path().join("ok.json").exists(), "the check creates nothing");
        assert_eq!(entries(dir.path()), vec!["busy", "plain"]);
    }
}
