//! Reading complete lines of a growing transcript from a byte offset, with
//! bounded memory, and noticing when the file was truncated or replaced.

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Lines longer than this are skipped as malformed without being held in
/// memory (no server accepts a message this large).
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// The identity of a file: a replaced file (rename over it) has a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    pub fn of(meta: &std::fs::Metadata) -> FileId {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileId {
                dev: meta.dev(),
                ino: meta.ino(),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            FileId { dev: 0, ino: 0 }
        }
    }
}

/// One complete line read from the file.
#[derive(Debug, Clone)]
pub struct RawLine {
    /// Byte offset of the line's first byte.
    pub start: u64,
    /// Byte offset just after its `\n`.
    pub end: u64,
    /// 1-based line number.
    pub line_no: u64,
    /// The line without its `\n`; empty when `oversized`.
    pub bytes: Vec<u8>,
    /// Longer than [`MAX_LINE_BYTES`]: skipped unread.
    pub oversized: bool,
}

/// What one read found.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Complete lines from the requested position, in order.
    pub lines: Vec<RawLine>,
    /// The file was replaced or truncated: `lines` start at offset 0 and the
    /// caller's position is no longer valid.
    pub reset: bool,
    /// The file's identity and size when read.
    pub id: Option<FileId>,
    pub len: u64,
}

/// Where to read from.
#[derive(Debug, Clone, Copy)]
pub struct Position {
    pub offset: u64,
    /// Complete lines before `offset`.
    pub line_no: u64,
    /// Identity of the file `offset` refers to, if known.
    pub id: Option<FileId>,
}

/// Read complete lines from `pos`, stopping after `max_lines` lines or once
/// `max_bytes` bytes were read (at least one line is returned if one is
/// complete). A missing file reads as nothing. A file whose identity changed
/// or that is now shorter than `pos.offset` is read from the start.
pub fn read_lines(
    path: &Path,
    pos: Position,
    max_lines: usize,
    max_bytes: usize,
) -> std::io::Result<Chunk> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Chunk::default()),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    let id = FileId::of(&meta);
    let len = meta.len();
    let replaced = pos.id.is_some_and(|old| old != id);
    let reset = replaced || len < pos.offset;
    let (offset, line_no) = if reset {
        (0, 0)
    } else {
        (pos.offset, pos.line_no)
    };
    let mut chunk = Chunk {
        lines: Vec::new(),
        reset,
        id: Some(id),
        len,
    };
    if offset >= len {
        return Ok(chunk);
    }
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    reader.seek(SeekFrom::Start(offset))?;
    let mut at = offset;
    let mut line_no = line_no;
    let mut total = 0usize;
    while chunk.lines.len() < max_lines && total < max_bytes && at < len {
        let Some(line) = read_one(&mut reader, at, line_no + 1)? else {
            break;
        };
        total += (line.end - line.start) as usize;
        at = line.end;
        line_no += 1;
        chunk.lines.push(line);
    }
    Ok(chunk)
}

/// Read one complete line starting at `start`; `None` when the line is not
/// complete yet (no `\n` before end of file).
fn read_one(
    reader: &mut BufReader<File>,
    start: u64,
    line_no: u64,
) -> std::io::Result<Option<RawLine>> {
    let mut bytes = Vec::new();
    let mut consumed = 0u64;
    let mut oversized = false;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(None);
        }
        match memchr::memchr(b'\n', buf) {
            Some(i) => {
                if !oversized {
                    if bytes.len() + i > MAX_LINE_BYTES {
                        oversized = true;
                        bytes = Vec::new();
                    } else {
                        bytes.extend_from_slice(&buf[..i]);
                    }
                }
                consumed += i as u64 + 1;
                reader.consume(i + 1);
                return Ok(Some(RawLine {
                    start,
                    end: start + consumed,
                    line_no,
                    bytes,
                    oversized,
                }));
            }
            None => {
                let n = buf.len();
                if !oversized {
                    if bytes.len() + n > MAX_LINE_BYTES {
                        oversized = true;
                        bytes = Vec::new();
                    } else {
                        bytes.extend_from_slice(buf);
                    }
                }
                consumed += n as u64;
                reader.consume(n);
            }
        }
    }
}

/// The line that ends exactly at `end` and starts at `start`, if the file
/// still holds a complete line there (used to check a cursor against the
/// file's content).
pub fn line_at(path: &Path, start: u64, end: u64) -> std::io::Result<Option<Vec<u8>>> {
    if end <= start || end - start > MAX_LINE_BYTES as u64 {
        return Ok(None);
    }
    let file = File::open(path)?;
    if file.metadata()?.len() < end {
        return Ok(None);
    }
    let mut reader = BufReader::new(file);
    reader.seek(SeekFrom::Start(start))?;
    match read_one(&mut reader, start, 0)? {
        Some(line) if line.end == end && !line.oversized => Ok(Some(line.bytes)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn start() -> Position {
        Position {
            offset: 0,
            line_no: 0,
            id: None,
        }
    }

    #[test]
    fn only_complete_lines_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, b"one\ntwo\nthr").unwrap();
        let c = read_lines(&path, start(), 100, 1 << 20).unwrap();
        assert_eq!(c.lines.len(), 2);
        assert_eq!(c.lines[1].bytes, b"two");
        assert_eq!(c.lines[1].line_no, 2);
        let pos = Position {
            offset: c.lines[1].end,
            line_no: 2,
            id: c.id,
        };
        assert!(read_lines(&path, pos, 100, 1 << 20)
            .unwrap()
            .lines
            .is_empty());
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"ee\n").unwrap();
        let c = read_lines(&path, pos, 100, 1 << 20).unwrap();
        assert!(!c.reset);
        assert_eq!(c.lines.len(), 1);
        assert_eq!(c.lines[0].bytes, b"three");
        assert_eq!(c.lines[0].line_no, 3);
        assert_eq!(c.lines[0].start, 8);
    }

    #[test]
    fn limits_bound_a_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, "x\n".repeat(100)).unwrap();
        assert_eq!(
            read_lines(&path, start(), 10, 1 << 20).unwrap().lines.len(),
            10
        );
        assert_eq!(read_lines(&path, start(), 1000, 7).unwrap().lines.len(), 4);
        // A line longer than the byte budget still comes out whole.
        std::fs::write(&path, format!("{}\nb\n", "a".repeat(5000))).unwrap();
        let c = read_lines(&path, start(), 10, 10).unwrap();
        assert_eq!(c.lines.len(), 1);
        assert_eq!(c.lines[0].bytes.len(), 5000);
    }

    #[test]
    fn truncation_and_replacement_restart_from_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, b"aaaa\nbbbb\n").unwrap();
        let c = read_lines(&path, start(), 100, 1 << 20).unwrap();
        let pos = Position {
            offset: 10,
            line_no: 2,
            id: c.id,
        };
        std::fs::write(&path, b"c\n").unwrap();
        let c = read_lines(&path, pos, 100, 1 << 20).unwrap();
        assert!(c.reset);
        assert_eq!(c.lines[0].bytes, b"c");
        assert_eq!(c.lines[0].line_no, 1);

        let other = dir.path().join("u.jsonl");
        std::fs::write(&other, b"aaaa\nbbbb\nnew\n").unwrap();
        std::fs::rename(&other, &path).unwrap();
        let c = read_lines(&path, pos, 100, 1 << 20).unwrap();
        assert!(c.reset, "a renamed-over file is a new file");
        assert_eq!(c.lines.len(), 3);
    }

    #[test]
    fn checks_a_line_by_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, b"aaaa\nbbbb\n").unwrap();
        assert_eq!(line_at(&path, 5, 10).unwrap().unwrap(), b"bbbb");
        assert!(line_at(&path, 4, 10).unwrap().is_none());
        assert!(line_at(&path, 5, 12).unwrap().is_none());
    }
}
