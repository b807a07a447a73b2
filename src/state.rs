//! Local state files under `~/.openctl`: locked, atomic, private, and never
//! overwritten when they do not parse.
//!
//! Every write takes an exclusive lock on a sibling `.<name>.lock` file (the
//! data file itself is replaced by rename, so it cannot carry the lock),
//! reads the current content, lets the caller modify it, writes a unique temp
//! file in the same directory with mode 0600, fsyncs it and renames it over
//! the old file. Readers need no lock: a rename is atomic.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use crate::error::{CliError, Exit};
use crate::paths;

/// A JSON object file with locked read-modify-write updates.
#[derive(Debug, Clone)]
pub struct JsonFile {
    path: PathBuf,
}

impl JsonFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        JsonFile { path: path.into() }
    }

    /// The file `name` in the openctl home.
    pub fn in_home(name: &str) -> Result<Self> {
        Ok(JsonFile::new(paths::openctl_home()?.join(name)))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read the file. A missing file is an empty object; a file that does
    /// not parse as a JSON object is an error naming the file.
    pub fn read(&self) -> Result<Map<String, Value>> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Map::new()),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", self.path.display()))
            }
        };
        parse_object(&self.path, &bytes)
    }

    /// Lock, read, let `modify` change the object, write it back atomically.
    /// When `modify` returns an error nothing is written.
    pub fn update<T>(
        &self,
        modify: impl FnOnce(&mut Map<String, Value>) -> Result<T>,
    ) -> Result<T> {
        let dir = self
            .path
            .parent()
            .context("state file has no parent directory")?;
        paths::ensure_private_dir(dir)?;
        let _lock = lock_exclusive(&self.lock_path())?;
        let mut map = self.read()?;
        let before = map.clone();
        let out = modify(&mut map)?;
        if map != before || !self.path.exists() {
            let mut text = serde_json::to_vec_pretty(&Value::Object(map))?;
            text.push(b'\n');
            write_atomic(&self.path, &text)?;
        }
        Ok(out)
    }

    fn lock_path(&self) -> PathBuf {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.path.with_file_name(format!(".{name}.lock"))
    }
}

fn parse_object(path: &Path, bytes: &[u8]) -> Result<Map<String, Value>> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(corrupt(path, "the file is empty"));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(corrupt(path, "it holds JSON but not an object")),
        Err(e) => Err(corrupt(path, &format!("it is not valid JSON ({e})"))),
    }
}

fn corrupt(path: &Path, what: &str) -> anyhow::Error {
    CliError::new(
        Exit::Failure,
        format!(
            "{} cannot be read: {what}. It was left untouched.",
            path.display()
        ),
    )
    .with_hint(format!(
        "fix the file by hand, or move it away (mv {0} {0}.bak) to start afresh",
        path.display()
    ))
    .into()
}

/// Hold an exclusive lock on `path` (created 0600 if missing) until the
/// returned file is dropped.
pub fn lock_exclusive(path: &Path) -> Result<File> {
    let file = open_private(path)?;
    file.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(file)
}

/// Open (create if missing) a file with mode 0600 for reading and writing.
pub fn open_private(path: &Path) -> Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
        .with_context(|| format!("cannot open {}", path.display()))
}

/// Write `bytes` to `path` atomically: a unique temp file in the same
/// directory (mode 0600), fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    replace(path, bytes, true)
}

/// Replace `path` atomically (readers see the old or the new content, never
/// a mix) without waiting for the disk: for snapshots that are rewritten
/// all the time and mean nothing after a crash (the daemon's status).
pub fn replace_snapshot(path: &Path, bytes: &[u8]) -> Result<()> {
    replace(path, bytes, false)
}

fn replace(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    let dir = path.parent().context("path has no parent directory")?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|_| {
            if durable {
                tmp.as_file().sync_all()
            } else {
                Ok(())
            }
        })
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    if durable {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_file_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, b"{\"a\": ").unwrap();
        let f = JsonFile::new(&path);
        let err = f.update(|m| {
            m.insert("b".into(), Value::Bool(true));
            Ok(())
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\": ");
    }

    #[test]
    fn update_preserves_unknown_keys_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, br#"{"keep": {"deep": 1}}"#).unwrap();
        let f = JsonFile::new(&path);
        f.update(|m| {
            m.insert("new".into(), Value::from(2));
            Ok(())
        })
        .unwrap();
        let m = f.read().unwrap();
        assert_eq!(m["keep"]["deep"], 1);
        assert_eq!(m["new"], 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
