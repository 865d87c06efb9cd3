//! Writing the files psg produces (exports, saved plans): atomically and
//! durably, with `tempfile`'s persist (a rename) and a directory sync.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Replaces the content of `path` with `bytes`: a reader sees the old file or
/// the new one, never a torn one, and a failure leaves the target as it was
/// and no temporary file behind. A symlink is followed (its target is
/// replaced, the link stays); an existing file keeps its permissions, a new
/// one gets `0666 & !umask`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let target = follow(path)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut temp = builder.tempfile_in(&dir)?;
    temp.write_all(bytes)?;
    if let Ok(meta) = fs::metadata(&target) {
        temp.as_file().set_permissions(meta.permissions())?;
    }
    temp.as_file().sync_all()?;
    // On failure the temporary file comes back in the error and is removed with it.
    temp.persist(&target).map_err(|e| e.error)?;
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The file a write to `path` replaces: `path` itself unless it is a
/// symlink, then the end of its chain (which may not exist yet).
fn follow(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn replaces_whole_files_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("groups.yaml");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["groups.yaml"]);
        // The rename fails (a non-empty directory is in the way): nothing left behind.
        let busy = dir.path().join("busy");
        fs::create_dir(&busy).unwrap();
        fs::write(busy.join("inside"), "x").unwrap();
        assert!(write_atomic(&busy, b"new").is_err());
        assert_eq!(names(dir.path()), ["busy", "groups.yaml"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_gets_its_target_and_a_loop_is_an_error() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        symlink("fresh.yaml", dir.path().join("link.yaml")).unwrap();
        write_atomic(&dir.path().join("link.yaml"), b"x").unwrap();
        assert_eq!(fs::read(dir.path().join("fresh.yaml")).unwrap(), b"x");
        symlink("b", dir.path().join("a")).unwrap();
        symlink("a", dir.path().join("b")).unwrap();
        assert!(write_atomic(&dir.path().join("a"), b"x").is_err());
    }
}
