//! `-` as a file name: stdin for input files, stdout for `export`. psg never
//! creates a file named `-`.

use std::io::Read;
use std::path::Path;

/// Whether `path` is the conventional `-`.
pub fn is_dash(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// How a path is named in messages: `stdin` for `-`.
pub fn shown(path: &Path) -> String {
    if is_dash(path) { "stdin".to_string() } else { path.display().to_string() }
}

/// The file's size when known (stdin: unknown), and a reader over it.
pub fn open(path: &Path) -> std::io::Result<(Option<u64>, Box<dyn Read>)> {
    if is_dash(path) {
        return Ok((None, Box::new(std::io::stdin())));
    }
    let file = std::fs::File::open(path)?;
    let size = file.metadata().ok().map(|m| m.len());
    Ok((size, Box::new(file)))
}
