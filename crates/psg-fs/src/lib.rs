#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// How many symlinks [`resolve`] follows before giving up (the kernel's ELOOP limit).
const MAX_LINKS: usize = 40;

/// Replaces the content of `path` (or of the file its symlinks lead to) with
/// `bytes`, atomically and durably. An existing target keeps its
/// permissions; a new one gets `0666 & !umask`, like any file a program
/// creates.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, bytes, NewFile::Umask)
}

/// As [`write_atomic`], but a new file is readable and writable by its owner
/// only (`0600`): for files that may hold credentials.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, bytes, NewFile::OwnerOnly)
}

/// Checks that `path` could be written by [`write_atomic`]: its directory
/// takes a new file and an existing target can be opened for writing.
/// Changes nothing.
pub fn check_writable(path: &Path) -> io::Result<()> {
    let target = resolve(path)?;
    if target.is_dir() {
        return Err(io::Error::other("it is a directory"));
    }
    drop(temp_next_to(&target, NewFile::OwnerOnly)?);
    if target.exists() {
        fs::OpenOptions::new().append(true).open(&target)?;
    }
    Ok(())
}

/// Follows `path` through symlinks to the file a write replaces; a path that
/// does not exist (yet) is its own target. A loop is an error.
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

/// The permissions a file that did not exist before gets.
#[derive(Clone, Copy)]
enum NewFile {
    /// `0666 & !umask`.
    Umask,
    /// `0600` (tempfile's default).
    OwnerOnly,
}

fn write_with(path: &Path, bytes: &[u8], new_file: NewFile) -> io::Result<()> {
    let target = resolve(path)?;
    let mut temp = temp_next_to(&target, new_file)?;
    temp.write_all(bytes)?;
    match fs::metadata(&target) {
        Ok(meta) => temp.as_file().set_permissions(meta.permissions())?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    temp.as_file().sync_all()?;
    // On failure, `PersistError` hands the temporary file back; dropping it removes it.
    temp.persist(&target).map_err(|e| e.error)?;
    sync_directory(directory_of(&target));
    Ok(())
}

/// The directory a temporary file for `target` goes in (so the final rename
/// stays within one file system).
fn directory_of(target: &Path) -> &Path {
    match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A temporary file next to `target`, named after it with a random part.
fn temp_next_to(target: &Path, new_file: NewFile) -> io::Result<tempfile::NamedTempFile> {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    if let NewFile::Umask = new_file {
        use std::os::unix::fs::PermissionsExt;
        // The umask applies, as for any newly created file.
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    #[cfg(not(unix))]
    let _ = new_file;
    builder.tempfile_in(directory_of(target))
}

/// Makes a rename in `dir` durable; best effort (not every platform can open
/// a directory).
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
        write_private(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(entries(dir.path()), vec!["state.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn new_files_get_the_umask_or_owner_only_and_existing_ones_keep_theirs() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("private.json");
        write_private(&private, b"x").unwrap();
        assert_eq!(mode(&private), 0o600);
        let public = dir.path().join("public.yaml");
        write_atomic(&public, b"x").unwrap();
        // The same mode as any file this process creates (0666 & !umask).
        let plain = dir.path().join("plain.yaml");
        fs::write(&plain, b"x").unwrap();
        assert_eq!(mode(&public), mode(&plain));
        fs::set_permissions(&public, fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&public, b"y").unwrap();
        assert_eq!(mode(&public), 0o644, "an existing file keeps its permissions");
        fs::set_permissions(&private, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&private, b"y").unwrap();
        assert_eq!(mode(&private), 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn follows_symlinks_keeping_the_link() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let real_dir = dir.path().join("real");
        fs::create_dir(&real_dir).unwrap();
        let real = real_dir.join("state.json");
        fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.json");
        symlink("real/state.json", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert_eq!(entries(&real_dir), vec!["state.json"], "the temporary file lived beside the target");
        // A dangling link gets its target created.
        let dangling = dir.path().join("dangling.json");
        symlink("real/fresh.json", &dangling).unwrap();
        write_atomic(&dangling, b"x").unwrap();
        assert_eq!(fs::read(real_dir.join("fresh.json")).unwrap(), b"x");
        // A loop is an error, not a hang.
        symlink("loop-b", dir.path().join("loop-a")).unwrap();
        symlink("loop-a", dir.path().join("loop-b")).unwrap();
        let err = write_atomic(&dir.path().join("loop-a"), b"x").unwrap_err();
        assert!(err.to_string().contains("symbolic links"), "{err}");
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
        assert_eq!(entries(&target), vec!["inside"]);
        // A parent that is a file: nothing can be created.
        let file = dir.path().join("plain");
        fs::write(&file, "keep").unwrap();
        assert!(write_atomic(&file.join("state.json"), b"new").is_err());
        assert_eq!(fs::read(&file).unwrap(), b"keep");
        assert!(check_writable(&file.join("state.json")).is_err());
        assert!(check_writable(&target).is_err());
        assert!(check_writable(&dir.path().join("ok.json")).is_ok());
        assert!(!dir.path().join("ok.json").exists(), "the check creates nothing");
        assert_eq!(entries(dir.path()), vec!["busy", "plain"]);
    }
}
