//! The transcripts of a shared session's subagents (Task/Agent tool
//! calls): where Claude Code writes them, which belong to the session, and
//! which call started each. They stream with their session, to servers
//! whose health says they take them.
//!
//! Layouts (shared/claude-code.md): 2.1.x writes
//! `<project>/<session>/subagents/agent-<id>.jsonl`; 2.0.x writes
//! `<project>/agent-<id>.jsonl` beside the transcripts of every session of
//! the project, so there a file belongs to the session its lines name.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::transcript;

/// How much of an agent transcript's head is read to learn its session and
/// first prompt.
const HEAD_BUDGET: u64 = 4 * 1024 * 1024;

pub struct Agents {
    session: String,
    /// `<project>`: the directory of the session's transcript.
    project: PathBuf,
    /// Files beside the transcript already looked at: the session they
    /// belong to (None: not ours).
    seen: HashMap<PathBuf, bool>,
}

impl Agents {
    pub fn new(transcript: &Path, session: &str) -> Agents {
        Agents {
            session: session.to_string(),
            project: transcript
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            seen: HashMap::new(),
        }
    }

    /// The directories whose changes may bring a new subagent transcript:
    /// `<project>/<session>` and its `subagents`, parent first: watching
    /// them in this order (then listing) misses no file created meanwhile.
    pub fn dirs(&self) -> [PathBuf; 2] {
        let own = self.project.join(&self.session);
        [own.clone(), own.join("subagents")]
    }

    /// Every subagent transcript of the session: (agent id, path), by id.
    pub fn discover(&mut self) -> Vec<(String, PathBuf)> {
        let [_, subagents] = self.dirs();
        let mut found: Vec<(String, PathBuf)> = agent_files(&subagents);
        for (id, path) in agent_files(&self.project) {
            let ours = match self.seen.get(&path) {
                Some(ours) => *ours,
                None => match head(&path, |obj| {
                    obj.get("sessionId")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                }) {
                    // No complete line naming a session yet: look again.
                    None => continue,
                    Some(session) => {
                        let ours = session == self.session;
                        self.seen.insert(path.clone(), ours);
                        ours
                    }
                },
            };
            if ours && !found.iter().any(|(i, _)| *i == id) {
                found.push((id, path));
            }
        }
        found.sort();
        found
    }
}

/// `agent-<id>.jsonl` files of `dir`.
fn agent_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let id = name
                .to_str()?
                .strip_prefix("agent-")?
                .strip_suffix(".jsonl")?
                .to_string();
            (!id.is_empty()).then(|| (id, e.path()))
        })
        .collect()
}

/// The first value `pick` finds in the complete lines of `path`'s head.
fn head<T>(
    path: &Path,
    mut pick: impl FnMut(&serde_json::Map<String, Value>) -> Option<T>,
) -> Option<T> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut reader = std::io::BufReader::new(file.take(HEAD_BUDGET));
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).ok()? == 0 || !line.ends_with(b"\n") {
            return None;
        }
        if let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&line) {
            if let Some(v) = pick(&obj) {
                return Some(v);
            }
        }
    }
}

/// The id of the Task/Agent call in the session's transcript whose prompt
/// is the first user text of the subagent transcript `agent`.
pub fn parent_call(transcript: &Path, agent: &Path) -> Option<String> {
    let prompt = head(agent, |obj| {
        (obj.get("type").and_then(Value::as_str) == Some("user"))
            .then(|| transcript::plain_text(obj))
            .flatten()
    })?;
    let file = std::fs::File::open(transcript).ok()?;
    let reader = std::io::BufReader::new(file);
    let finder = memchr::memmem::Finder::new(b"\"tool_use\"");
    for line in reader.split(b'\n') {
        let line = line.ok()?;
        if finder.find(&line).is_none() {
            continue;
        }
        let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&line) else {
            continue;
        };
        let blocks = obj
            .get("message")
            .and_then(|m| m.get("content"))
            .and_then(Value::as_array);
        for block in blocks.into_iter().flatten() {
            if let Some((id, p)) = transcript::agent_call(block) {
                if p.trim() == prompt.trim() {
                    return Some(id.to_string());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(path: &Path, lines: &[Value]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn finds_both_layouts_and_the_starting_call() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("-repo");
        let main = project.join("s1.jsonl");
        write(
            &main,
            &[
                json!({"type": "assistant", "sessionId": "s1", "message": {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_9", "name": "Task",
                 "input": {"description": "look", "prompt": "Find the parser", "subagent_type": "general-purpose"}}]}}),
            ],
        );
        let sub = |session: &str| {
            vec![
                json!({"type": "user", "isSidechain": true, "sessionId": session,
                        "message": {"role": "user", "content": "Find the parser"}}),
            ]
        };
        write(&project.join("s1/subagents/agent-a1.jsonl"), &sub("s1"));
        write(&project.join("agent-b2.jsonl"), &sub("s1"));
        write(&project.join("agent-c3.jsonl"), &sub("other"));
        std::fs::write(project.join("agent-d4.jsonl"), "{\"sessionId\":").unwrap();
        let mut agents = Agents::new(&main, "s1");
        let found: Vec<String> = agents.discover().into_iter().map(|(id, _)| id).collect();
        assert_eq!(found, ["a1", "b2"]);
        assert_eq!(
            parent_call(&main, &project.join("s1/subagents/agent-a1.jsonl")).as_deref(),
            Some("toolu_9")
        );
        assert_eq!(
            parent_call(&main, &project.join("agent-c3.jsonl")).as_deref(),
            Some("toolu_9")
        );
    }
}
