//! The daemon runs all day: keep what it holds in memory to what it uses
//! (issue 7: < 10 MB resident with 50 shared sessions).
//!
//! Two costs: the heap, which glibc keeps growing unless told otherwise
//! ([`keep_heap_small`]); and the pages of code mapped from the binary and
//! the shared libraries. Start-up runs much code that never runs again
//! (config and rule loading, regex compilation, runtime and TLS set-up), and
//! the kernel maps up to 16 pages around every page that faults
//! ("fault-around"), so most code pages resident after start-up are never
//! used again. [`trim_code_pages`] unmaps them once the daemon is ready:
//! from then on what is resident is the code that runs (still rounded up by
//! fault-around). The pages stay in the page cache; one needed again costs
//! a minor fault.

/// One malloc arena (the daemon has few threads), and large buffers (the
/// transcript reads) are mapped and unmapped instead of raising the mmap
/// threshold and staying in the heap after the first one is freed. Call
/// before any thread exists.
pub fn keep_heap_small() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; called before any thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}

/// Drop this process's mappings of file pages it cannot have modified
/// (private, not writable, no anonymous copy-on-write page: code and
/// read-only data of the binary and its libraries); the next access maps a
/// page again. Best effort: returns how many kB were
/// resident in the mappings it trimmed (0 off Linux or when
/// `/proc/self/smaps` is unreadable).
pub fn trim_code_pages() -> u64 {
    #[cfg(target_os = "linux")]
    {
        let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
            return 0;
        };
        let mut trimmed = 0;
        for m in read_only_file_mappings(&smaps) {
            let len = m.end - m.start;
            // SAFETY: the range is a whole mapping of this process that is
            // not writable and holds no private (anonymous) page, so
            // MADV_DONTNEED only drops page-table entries: the next access
            // maps the same unchanged file page again.
            unsafe {
                let addr = m.start as *mut libc::c_void;
                if libc::madvise(addr, len, libc::MADV_DONTNEED) == 0 {
                    trimmed += m.rss_kb;
                }
            }
        }
        trimmed
    }
    #[cfg(not(target_os = "linux"))]
    0
}

/// A mapping [`trim_code_pages`] may trim.
#[derive(Debug, PartialEq, Eq)]
struct Mapping {
    start: usize,
    end: usize,
    rss_kb: u64,
}

/// The mappings of `/proc/<pid>/smaps` text that are file-backed, private,
/// not writable and proven to hold no anonymous page.
fn read_only_file_mappings(smaps: &str) -> Vec<Mapping> {
    // (mapping, read-only private file mapping, "Anonymous: 0 kB" seen)
    let mut all: Vec<(Mapping, bool, bool)> = Vec::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if let Some((start, end)) = first.split_once('-') {
            // A mapping header: "start-end perms offset dev inode [path]".
            let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            ) else {
                continue;
            };
            let perms = fields.next().unwrap_or("").as_bytes();
            let inode = fields.nth(2).unwrap_or("0");
            let read_only_file = perms.len() == 4
                && perms[1] == b'-'
                && perms[3] == b'p'
                && inode != "0"
                && end > start;
            let m = Mapping {
                start,
                end,
                rss_kb: 0,
            };
            all.push((m, read_only_file, false));
            continue;
        }
        let Some((m, _, no_anon)) = all.last_mut() else {
            continue;
        };
        let kb = fields.next().and_then(|v| v.parse::<u64>().ok());
        match first {
            "Rss:" => m.rss_kb = kb.unwrap_or(0),
            "Anonymous:" => *no_anon = kb == Some(0),
            _ => {}
        }
    }
    all.into_iter()
        .filter(|(_, read_only_file, no_anon)| *read_only_file && *no_anon)
        .map(|(m, _, _)| m)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0a0000000-55d0a0200000 r--p 00000000 fe:00 5803232                    /usr/bin/openctl-daemon
Size:               2048 kB
Rss:                1160 kB
Anonymous:             0 kB
VmFlags: rd mr mw me sd
55d0a0200000-55d0a0700000 r-xp 00200000 fe:00 5803232                    /usr/bin/openctl-daemon
Rss:                4052 kB
Anonymous:             0 kB
55d0a0700000-55d0a0765000 r--p 00700000 fe:00 5803232                    /usr/bin/openctl-daemon
Rss:                 404 kB
Anonymous:           404 kB
55d0a0765000-55d0a076c000 rw-p 00765000 fe:00 5803232                    /usr/bin/openctl-daemon
Rss:                  20 kB
Anonymous:            20 kB
55d0a1000000-55d0a1200000 rw-p 00000000 00:00 0                          [heap]
Rss:                2220 kB
Anonymous:          2220 kB
7f0000000000-7f0000001000 r--p 00000000 fe:00 77                         /usr/lib/libc.so.6
Rss:                   4 kB
7f0000001000-7f0000002000 r-xs 00000000 fe:00 78                         /dev/shm/x
Rss:                   4 kB
Anonymous:             0 kB
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]
Rss:                   8 kB
Anonymous:             0 kB
";

    #[test]
    fn only_unmodified_private_file_mappings_are_trimmed() {
        let got = read_only_file_mappings(SMAPS);
        assert_eq!(
            got,
            vec![
                Mapping {
                    start: 0x55d0a0000000,
                    end: 0x55d0a0200000,
                    rss_kb: 1160
                },
                Mapping {
                    start: 0x55d0a0200000,
                    end: 0x55d0a0700000,
                    rss_kb: 4052
                },
            ],
            "RELRO (anonymous pages), writable, shared, anonymous mappings and \
             mappings without an Anonymous line are kept"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn trimming_drops_resident_code_and_the_process_keeps_working() {
        let trimmed = trim_code_pages();
        assert!(trimmed > 0, "the test binary's code was resident");
        // Code, read-only data and libc run again after the trim.
        assert_eq!(format!("{:?}", vec![1u8, 2, 3]), "[1, 2, 3]");
        assert!(std::fs::read_to_string("/proc/self/smaps").is_ok());
    }
}
