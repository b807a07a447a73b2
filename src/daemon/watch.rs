//! File-change notifications for the daemon: one notify watcher for the
//! whole process. Directories are watched, never files (writers replace
//! files by rename, and a file watch would follow the dead inode): the
//! openctl home (for shared-sessions.json and config.json) and the directory
//! of every tailed transcript. Each event wakes whoever subscribed to that
//! exact path.
//!
//! Where inotify cannot be had (its instance limit reached, or
//! `OPENCTL_WATCH=poll` for file systems that send no events, like some
//! network mounts), everything is polled; where its watch limit is
//! reached, the directories over it are polled. Either is said in `daemon
//! status` and the log, with the limit to raise.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context, Result};
use notify::{RecursiveMode, Watcher};
use tokio::sync::Notify;

type Subscribers = HashMap<PathBuf, Vec<(u64, Arc<Notify>)>>;

/// How often polled directories are checked.
const POLL_EVERY: Duration = Duration::from_secs(1);

struct Shared {
    subs: Mutex<Subscribers>,
    /// Watched directories: how many subscriptions need each, and whether
    /// it is polled.
    dirs: Mutex<HashMap<PathBuf, (usize, bool)>>,
    /// None where inotify cannot be had: then everything is polled.
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
    /// Whether the polling thread runs.
    polling: std::sync::atomic::AtomicBool,
    /// The openctl home and the files in it whose changes matter.
    home_files: Vec<PathBuf>,
    home_changed: Arc<Notify>,
    next_id: Mutex<u64>,
}

/// Why files are polled rather than watched, if they are.
static DEGRADED: Mutex<Option<String>> = Mutex::new(None);

/// What `daemon status` says about file watching, when it is degraded.
pub fn degraded() -> Option<String> {
    lock(&DEGRADED).clone()
}

fn degrade(why: String) {
    let mut current = lock(&DEGRADED);
    if current.as_deref() != Some(why.as_str()) {
        tracing::warn!("{why}");
        *current = Some(why);
    }
}

/// What a change of a file or directory changes: identity, size, and the
/// modification time to the nanosecond (a change within the same second
/// must count).
fn signature(path: &Path) -> Option<(u64, u64, i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.ino(), m.len(), m.mtime(), m.mtime_nsec()))
}

/// Start the thread that polls every subscribed path and the home's files
/// (once; it ends with the watcher).
fn start_polling(shared: &Arc<Shared>) {
    use std::sync::atomic::Ordering;
    if shared.polling.swap(true, Ordering::SeqCst) {
        return;
    }
    let weak = Arc::downgrade(shared);
    let spawned = std::thread::Builder::new()
        .name("openctl-poll".into())
        .spawn(move || {
            let mut seen: HashMap<PathBuf, Option<(u64, u64, i64, i64)>> = HashMap::new();
            loop {
                std::thread::sleep(POLL_EVERY);
                let Some(shared) = weak.upgrade() else {
                    return;
                };
                let paths: Vec<PathBuf> = lock(&shared.subs).keys().cloned().collect();
                for path in paths {
                    let now = signature(&path);
                    if seen.insert(path.clone(), now) != Some(now) {
                        if let Some(list) = lock(&shared.subs).get(&path) {
                            list.iter().for_each(|(_, n)| n.notify_one());
                        }
                    }
                }
                for path in &shared.home_files {
                    let now = signature(path);
                    if seen.insert(path.clone(), now) != Some(now) {
                        shared.home_changed.notify_one();
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start polling files: {e}");
    }
}

/// The sysctl that lifts the limit behind `e`, if it is one of inotify's.
fn limit_hint(e: &notify::Error) -> Option<&'static str> {
    match &e.kind {
        notify::ErrorKind::MaxFilesWatch => Some("sudo sysctl fs.inotify.max_user_watches=524288"),
        notify::ErrorKind::Io(io) if io.raw_os_error() == Some(libc::EMFILE) => {
            Some("sudo sysctl fs.inotify.max_user_instances=1024")
        }
        _ => None,
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The process-wide watcher.
#[derive(Clone)]
pub struct FileWatch {
    shared: Arc<Shared>,
}

impl FileWatch {
    /// Start watching `home`; changes of the files named in `home_files`
    /// wake `home_changed`.
    pub fn new(home: &Path, home_files: &[&str], home_changed: Arc<Notify>) -> Result<FileWatch> {
        let shared = Arc::new(Shared {
            subs: Mutex::new(HashMap::new()),
            dirs: Mutex::new(HashMap::new()),
            watcher: Mutex::new(None),
            polling: std::sync::atomic::AtomicBool::new(false),
            home_files: home_files.iter().map(|f| home.join(f)).collect(),
            home_changed: home_changed.clone(),
            next_id: Mutex::new(0),
        });
        let names: Vec<OsString> = home_files.iter().map(OsString::from).collect();
        let home_dir = home.to_path_buf();
        let weak = Arc::downgrade(&shared);
        let handler = move |ev: notify::Result<notify::Event>| {
            let Ok(ev) = ev else {
                // An overflow or backend error: wake everyone, they re-check.
                home_changed.notify_one();
                if let Some(shared) = weak.upgrade() {
                    for subs in lock(&shared.subs).values() {
                        subs.iter().for_each(|(_, n)| n.notify_one());
                    }
                }
                return;
            };
            if ev.kind.is_access() {
                return;
            }
            let Some(shared) = weak.upgrade() else {
                return;
            };
            let subs = lock(&shared.subs);
            for path in &ev.paths {
                if path.parent() == Some(home_dir.as_path())
                    && path
                        .file_name()
                        .is_some_and(|n| names.iter().any(|x| x == n))
                {
                    home_changed.notify_one();
                }
                if let Some(list) = subs.get(path) {
                    list.iter().for_each(|(_, n)| n.notify_one());
                }
                // Directory subscriptions: any change inside.
                if let Some(list) = path.parent().and_then(|dir| subs.get(dir)) {
                    list.iter().for_each(|(_, n)| n.notify_one());
                }
            }
        };
        let forced = std::env::var("OPENCTL_WATCH").is_ok_and(|v| v == "poll");
        let watcher = if forced {
            degrade(format!(
                "OPENCTL_WATCH=poll: files are polled every {} s instead of watched",
                POLL_EVERY.as_secs()
            ));
            None
        } else {
            match notify::recommended_watcher(move |ev: notify::Result<notify::Event>| handler(ev))
            {
                Ok(w) => Some(w),
                Err(e) => {
                    let raise = limit_hint(&e)
                        .map(|h| format!("; to watch instead, raise the limit: {h}"))
                        .unwrap_or_default();
                    degrade(format!(
                        "cannot watch files ({e}); polling them every {} s{raise}",
                        POLL_EVERY.as_secs()
                    ));
                    None
                }
            }
        };
        let polled = watcher.is_none();
        *lock(&shared.watcher) = watcher;
        if polled {
            start_polling(&shared);
        }
        let watch = FileWatch { shared };
        watch
            .watch_dir(home)
            .with_context(|| format!("cannot watch {}", home.display()))?;
        Ok(watch)
    }

    /// Watch `dir` with the watcher, or poll it when inotify's watch limit
    /// is reached. True when polled.
    fn watch_dir(&self, dir: &Path) -> notify::Result<bool> {
        let primary = match lock(&self.shared.watcher).as_mut() {
            Some(w) => w.watch(dir, RecursiveMode::NonRecursive),
            None => return Ok(true),
        };
        let Err(e) = primary else {
            return Ok(false);
        };
        let Some(raise) = limit_hint(&e) else {
            return Err(e);
        };
        let polled = lock(&self.shared.dirs).values().filter(|(_, p)| *p).count() + 1;
        start_polling(&self.shared);
        degrade(format!(
            "inotify's watch limit is reached ({e}); {polled} directories are polled every {} s; to watch them instead, raise the limit: {raise}",
            POLL_EVERY.as_secs()
        ));
        Ok(true)
    }

    /// Wake `notify` whenever `file` changes (created, written, replaced,
    /// removed). Watching stops when the subscription is dropped.
    pub fn subscribe(&self, file: &Path, notify: Arc<Notify>) -> Subscription {
        let watch = file.parent().map(Path::to_path_buf);
        self.subscribe_path(file, watch, notify)
    }

    /// Wake `notify` whenever `dir` is created or removed, or anything in
    /// it changes. A directory that does not exist yet is watched once it
    /// does (see [`Subscription::ensure_watching`]).
    pub fn subscribe_dir(&self, dir: &Path, notify: Arc<Notify>) -> Subscription {
        self.subscribe_path(dir, Some(dir.to_path_buf()), notify)
    }

    /// Wake `notify` when `dir` is created (or removed): for a transcript
    /// whose project directory does not exist yet.
    pub fn subscribe_creation(&self, dir: &Path, notify: Arc<Notify>) -> Subscription {
        let watch = dir.parent().map(Path::to_path_buf);
        self.subscribe_path(dir, watch, notify)
    }

    fn subscribe_path(
        &self,
        file: &Path,
        watch: Option<PathBuf>,
        notify: Arc<Notify>,
    ) -> Subscription {
        let id = {
            let mut next = lock(&self.shared.next_id);
            *next += 1;
            *next
        };
        lock(&self.shared.subs)
            .entry(file.to_path_buf())
            .or_default()
            .push((id, notify));
        let mut sub = Subscription {
            shared: self.shared.clone(),
            file: file.to_path_buf(),
            watch,
            id,
            dir: None,
        };
        sub.ensure_watching();
        sub
    }
}

/// A live subscription; see [`FileWatch::subscribe`].
pub struct Subscription {
    shared: Arc<Shared>,
    file: PathBuf,
    /// The directory whose watch brings this subscription its events.
    watch: Option<PathBuf>,
    id: u64,
    /// The directory this subscription holds a watch on, once it exists.
    dir: Option<PathBuf>,
}

impl Subscription {
    /// Watch the file's directory if not yet done (it may not have existed
    /// before). True when watching.
    pub fn ensure_watching(&mut self) -> bool {
        if self.dir.is_some() {
            return true;
        }
        let Some(dir) = self.watch.clone() else {
            return false;
        };
        let known = {
            let mut dirs = lock(&self.shared.dirs);
            match dirs.get_mut(&dir) {
                Some((count, _)) => {
                    *count += 1;
                    true
                }
                None => false,
            }
        };
        if !known {
            let fw = FileWatch {
                shared: self.shared.clone(),
            };
            match fw.watch_dir(&dir) {
                Ok(polled) => {
                    lock(&self.shared.dirs).insert(dir.clone(), (1, polled));
                }
                Err(e) => {
                    tracing::debug!(dir = %dir.display(), error = %e, "cannot watch yet; relying on periodic checks");
                    return false;
                }
            }
        }
        self.dir = Some(dir);
        true
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        {
            let mut subs = lock(&self.shared.subs);
            if let Some(list) = subs.get_mut(&self.file) {
                list.retain(|(id, _)| *id != self.id);
                if list.is_empty() {
                    subs.remove(&self.file);
                }
            }
        }
        let Some(dir) = self.dir.take() else {
            return;
        };
        let mut dirs = lock(&self.shared.dirs);
        if let Some((count, polled)) = dirs.get_mut(&dir) {
            *count -= 1;
            if *count == 0 {
                let polled = *polled;
                dirs.remove(&dir);
                if !polled {
                    if let Some(w) = lock(&self.shared.watcher).as_mut() {
                        let _ = w.unwatch(&dir);
                    }
                }
            }
        }
    }
}
