//! Proof of life: the daemon holds an exclusive lock on
//! `~/.openctl/daemon.lock` for its whole lifetime and writes its pid and
//! version into it. A pid file can be stale (the pid reused by another
//! process); a lock cannot: the kernel drops it when the process dies.
//!
//! Checkers take a *shared* lock for an instant, so two checkers never see
//! each other as a daemon; the daemon retries its exclusive lock briefly so a
//! checker's instant never makes it give up.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

pub const LOCK_FILE: &str = "daemon.lock";
pub const PID_FILE: &str = "daemon.pid";

/// What the lock holder wrote about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: Option<u32>,
    pub version: Option<String>,
}

pub fn lock_path(home: &Path) -> PathBuf {
    home.join(LOCK_FILE)
}

/// The running daemon, if one holds the lock.
pub fn holder(home: &Path) -> Result<Option<Holder>> {
    let path = lock_path(home);
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
    };
    match file.try_lock_shared() {
        Ok(()) => Ok(None),
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let mut parts = text.split_whitespace();
            Ok(Some(Holder {
                pid: parts.next().and_then(|p| p.parse().ok()),
                version: parts.next().map(str::to_string),
            }))
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot check the lock {}", path.display()))
        }
    }
}

/// The held daemon lock; released when dropped (or when the process dies).
pub struct DaemonLock {
    file: File,
    pid_path: PathBuf,
}

impl DaemonLock {
    /// Record this process in the lock file and in `daemon.pid`.
    fn record(&mut self) -> Result<()> {
        let text = format!("{} {}\n", std::process::id(), env!("CARGO_PKG_VERSION"));
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(text.as_bytes())?;
        self.file.sync_all()?;
        crate::state::write_atomic(
            &self.pid_path,
            format!("{}\n", std::process::id()).as_bytes(),
        )
    }
}

impl Drop for DaemonLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.pid_path);
        let _ = self.file.set_len(0);
    }
}

/// Take the daemon lock. `Ok(None)` when another daemon holds it.
pub fn acquire(home: &Path) -> Result<Option<DaemonLock>> {
    let path = lock_path(home);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // A checker holds a shared lock for microseconds; a daemon for ever.
    let deadline = Instant::now() + Duration::from_millis(300);
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                if Instant::now() >= deadline {
                    return Ok(None);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }
    let mut lock = DaemonLock {
        file,
        pid_path: home.join(PID_FILE),
    };
    lock.record()
        .with_context(|| format!("cannot record the daemon pid in {}", path.display()))?;
    Ok(Some(lock))
}

/// Block until no daemon holds the lock, at most `timeout`. True when it
/// was released.
pub fn wait_released(home: &Path, timeout: Duration) -> Result<bool> {
    let path = lock_path(home);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(file.lock_shared().is_ok());
    });
    Ok(rx.recv_timeout(timeout).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_lock_is_seen_and_released() {
        let dir = tempfile::tempdir().unwrap();
        assert!(holder(dir.path()).unwrap().is_none());
        let lock = acquire(dir.path()).unwrap().expect("first lock");
        let h = holder(dir.path()).unwrap().expect("holder");
        assert_eq!(h.pid, Some(std::process::id()));
        assert_eq!(h.version.as_deref(), Some(env!("CARGO_PKG_VERSION")));
        assert!(
            acquire(dir.path()).unwrap().is_none(),
            "second daemon refused"
        );
        assert!(dir.path().join(PID_FILE).exists());
        drop(lock);
        assert!(holder(dir.path()).unwrap().is_none());
        assert!(wait_released(dir.path(), Duration::from_secs(1)).unwrap());
        assert!(!dir.path().join(PID_FILE).exists());
    }

    #[test]
    fn stale_pid_file_does_not_count() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PID_FILE), "1\n").unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), "1 0.0.1\n").unwrap();
        assert!(holder(dir.path()).unwrap().is_none());
        assert!(acquire(dir.path()).unwrap().is_some());
    }
}
