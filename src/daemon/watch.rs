//! File-change notifications for the daemon: one notify watcher for the
//! whole process. Directories are watched, never files (writers replace
//! files by rename, and a file watch would follow the dead inode): the
//! openctl home (for shared-sessions.json and config.json) and the directory
//! of every tailed transcript. Each event wakes whoever subscribed to that
//! exact path.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::{Context, Result};
use notify::{RecursiveMode, Watcher};
use tokio::sync::Notify;

type Subscribers = HashMap<PathBuf, Vec<(u64, Arc<Notify>)>>;

struct Shared {
    subs: Mutex<Subscribers>,
    /// Watched directories and how many subscriptions need each.
    dirs: Mutex<HashMap<PathBuf, usize>>,
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
    next_id: Mutex<u64>,
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
            next_id: Mutex::new(0),
        });
        let names: Vec<OsString> = home_files.iter().map(OsString::from).collect();
        let home_dir = home.to_path_buf();
        let weak = Arc::downgrade(&shared);
        let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
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
        })
        .context("cannot start the file watcher")?;
        watcher
            .watch(home, RecursiveMode::NonRecursive)
            .with_context(|| format!("cannot watch {}", home.display()))?;
        *lock(&shared.watcher) = Some(watcher);
        Ok(FileWatch { shared })
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
        let mut dirs = lock(&self.shared.dirs);
        if let Some(count) = dirs.get_mut(&dir) {
            *count += 1;
        } else {
            let mut watcher = lock(&self.shared.watcher);
            let Some(w) = watcher.as_mut() else {
                return false;
            };
            if let Err(e) = w.watch(&dir, RecursiveMode::NonRecursive) {
                tracing::debug!(dir = %dir.display(), error = %e, "cannot watch yet; relying on periodic checks");
                return false;
            }
            dirs.insert(dir.clone(), 1);
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
        if let Some(count) = dirs.get_mut(&dir) {
            *count -= 1;
            if *count == 0 {
                dirs.remove(&dir);
                if let Some(w) = lock(&self.shared.watcher).as_mut() {
                    let _ = w.unwatch(&dir);
                }
            }
        }
    }
}
