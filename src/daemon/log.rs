//! The daemon's log: `~/.openctl/daemon.log`, rotated by size
//! (`daemon.log.1`, `daemon.log.2`), level from `OPENCTL_LOG` (tracing
//! filter syntax, default `info`).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};

pub const FILE: &str = "daemon.log";
/// Rotate once the log reaches this size.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;
/// Rotated files kept besides the current one.
pub const KEEP: usize = 2;

/// Log lines that could not be written (a full disk, a file size limit).
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// How many log lines could not be written since the daemon started.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

pub fn path(home: &Path) -> PathBuf {
    home.join(FILE)
}

/// A file writer that rotates by size. Cheap to clone (shared state).
#[derive(Clone)]
pub struct RotatingWriter {
    inner: Arc<Mutex<Rotating>>,
}

struct Rotating {
    path: PathBuf,
    file: File,
    size: u64,
    max: u64,
    keep: usize,
}

fn open_append(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

impl RotatingWriter {
    pub fn open(path: &Path, max: u64, keep: usize) -> Result<RotatingWriter> {
        let file = open_append(path).with_context(|| format!("cannot open {}", path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(RotatingWriter {
            inner: Arc::new(Mutex::new(Rotating {
                path: path.to_path_buf(),
                file,
                size,
                max,
                keep,
            })),
        })
    }
}

impl Rotating {
    fn rotate(&mut self) -> io::Result<()> {
        let name = |i: usize| PathBuf::from(format!("{}.{i}", self.path.display()));
        if self.keep == 0 {
            self.file.set_len(0)?;
        } else {
            for i in (1..self.keep).rev() {
                let _ = std::fs::rename(name(i), name(i + 1));
            }
            std::fs::rename(&self.path, name(1))?;
            self.file = open_append(&self.path)?;
        }
        self.size = 0;
        Ok(())
    }
}

impl Write for RotatingWriter {
    /// Never fails: a line that cannot be written is counted (see
    /// [`dropped`], shown by `daemon status`) and dropped. Logging must
    /// never stop the daemon, and an error here would make the logging
    /// layer report it on stderr, which is this same file.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut r = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if r.size > 0 && r.size + buf.len() as u64 > r.max {
            // A log that cannot rotate keeps appending rather than failing.
            let _ = r.rotate();
        }
        match r.file.write_all(buf) {
            Ok(()) => r.size += buf.len() as u64,
            Err(_) => {
                DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut r = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let _ = r.file.flush();
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RotatingWriter {
    type Writer = RotatingWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Install the global subscriber writing to `~/.openctl/daemon.log`.
pub fn init(home: &Path) -> Result<()> {
    let writer = RotatingWriter::open(&path(home), MAX_BYTES, KEEP)?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("OPENCTL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .with_target(false)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}

/// The last `n` lines of the log (reading only its tail).
pub fn tail(path: &Path, n: usize) -> io::Result<Vec<String>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    let mut window: u64 = 64 * 1024;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::new();
        Read::by_ref(&mut file)
            .take(len - start)
            .read_to_end(&mut buf)?;
        let text = String::from_utf8_lossy(&buf);
        let mut lines: Vec<&str> = text.lines().collect();
        if start > 0 && !lines.is_empty() {
            lines.remove(0); // probably cut in the middle
        }
        if lines.len() >= n || start == 0 || window >= 64 * 1024 * 1024 {
            let from = lines.len().saturating_sub(n);
            return Ok(lines[from..].iter().map(|s| s.to_string()).collect());
        }
        window *= 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_and_keeps_two() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.log");
        let mut w = RotatingWriter::open(&p, 100, 2).unwrap();
        for i in 0..40 {
            // tracing writes each event with one call, as here.
            w.write_all(format!("line number {i:04}\n").as_bytes())
                .unwrap();
        }
        assert!(std::fs::metadata(&p).unwrap().len() <= 100);
        assert!(dir.path().join("d.log.1").exists());
        assert!(dir.path().join("d.log.2").exists());
        assert!(!dir.path().join("d.log.3").exists());
        let last = tail(&p, 1).unwrap();
        assert_eq!(last, vec!["line number 0039".to_string()]);
    }

    #[test]
    fn a_write_that_fails_is_counted_not_returned() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.log");
        let mut w = RotatingWriter::open(&p, 1 << 20, 2).unwrap();
        // A writer whose file refuses writes (opened read-only).
        w.inner.lock().unwrap().file = File::open(&p).unwrap();
        let before = dropped();
        assert_eq!(w.write(b"lost line\n").unwrap(), 10);
        assert!(w.flush().is_ok());
        assert_eq!(dropped(), before + 1);
    }

    #[test]
    fn tail_reads_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.log");
        let text: String = (0..100_000).map(|i| format!("l{i}\n")).collect();
        std::fs::write(&p, text).unwrap();
        assert_eq!(tail(&p, 2).unwrap(), vec!["l99998", "l99999"]);
        assert_eq!(tail(&p, 20_000).unwrap().len(), 20_000);
        assert!(tail(&dir.path().join("none"), 5).unwrap().is_empty());
    }
}
