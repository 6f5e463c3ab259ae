use std::io;
use std::path::Path;

/// The file name Heroku's CLI reads.
pub const FILE_NAME: &str = "addon-manifest.json";

/// What [`write_if_changed`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
    Unchanged,
}

/// Writes `contents` to `path` unless the file already holds exactly that, so that an
/// unchanged manifest keeps its modification time and does not trigger rebuilds.
///
/// The file is written to a temporary sibling and renamed into place, so a reader never sees
/// half a manifest.
pub fn write_if_changed(path: &Path, contents: &str) -> io::Result<Written> {
    let existed = match std::fs::read_to_string(path) {
        Ok(current) if current == contents => return Ok(Written::Unchanged),
        Ok(_) => true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)?;
    Ok(if existed { Written::Updated } else { Written::Created })
}
