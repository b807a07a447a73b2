//! Reading request bodies within bounds: bytes (CONTRACT.md §2), time (a
//! client that trickles its body does not hold a connection for ever) and,
//! for appends, content blocks (a small body of many tiny blocks must not
//! cost the server many times its size). JSON bodies are parsed into
//! borrowed raw fields, never into a `serde_json::Value` tree.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use futures_util::StreamExt;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::api::{ApiError, ApiResult};

/// Content blocks one message may have (Claude Code writes one to a few
/// per transcript line).
pub const MAX_BLOCKS_PER_MESSAGE: usize = 4096;
/// Content blocks one append request may have, all messages together.
pub const MAX_BLOCKS_PER_REQUEST: usize = 100_000;
/// Messages one append request may have (the daemon sends at most 2,000).
pub const MAX_MESSAGES_PER_REQUEST: usize = 10_000;
/// Beyond the body timeout, a body may take one more second per this many
/// bytes received, so a large batch on a slow link is not cut off while a
/// client that trickles bytes is.
pub const BODY_BYTES_PER_EXTRA_SECOND: u64 = 64 * 1024;

pub fn too_many_blocks_in_message(i: usize) -> ApiError {
    ApiError(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "`messages[{i}].content_blocks` has more than {MAX_BLOCKS_PER_MESSAGE} blocks, \
             the limit per message"
        ),
    )
}

pub fn too_many_messages() -> ApiError {
    ApiError(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the request has more than {MAX_MESSAGES_PER_REQUEST} messages, the limit per \
             request; send fewer messages at once"
        ),
    )
}

pub fn too_many_blocks_in_request() -> ApiError {
    ApiError(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the request has more than {MAX_BLOCKS_PER_REQUEST} content blocks, \
             the limit per request; send fewer messages at once"
        ),
    )
}

/// Read the whole body, counting the bytes actually received: over `limit`
/// is 413 whatever Content-Length said; not finished within `timeout` (plus
/// the allowance for what did arrive) is 408. `inspect` sees each chunk as
/// it arrives; when it refuses, the rest of the body is read and dropped
/// (so the client, still sending, gets to read the answer) and its error is
/// the answer.
pub async fn read_body(
    body: Body,
    limit: usize,
    timeout: Duration,
    mut inspect: impl FnMut(&[u8]) -> ApiResult<()>,
) -> ApiResult<Bytes> {
    let too_large = || {
        ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than the limit of {limit} bytes"),
        )
    };
    let start = tokio::time::Instant::now();
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    let mut received = 0usize;
    let mut refused: Option<ApiError> = None;
    loop {
        let allowance = Duration::from_secs(received as u64 / BODY_BYTES_PER_EXTRA_SECOND);
        let next = tokio::time::timeout_at(start + timeout + allowance, stream.next()).await;
        let chunk = match next {
            Err(_) if refused.is_some() => break,
            Err(_) => {
                return Err(ApiError(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "the request body did not arrive in time ({} s, plus 1 s per {} KiB \
                         received)",
                        timeout.as_secs(),
                        BODY_BYTES_PER_EXTRA_SECOND / 1024
                    ),
                ))
            }
            Ok(None) => break,
            Ok(Some(Ok(chunk))) => chunk,
            Ok(Some(Err(e))) if refused.is_some() => {
                tracing::debug!("after refusing a body: {e}");
                break;
            }
            Ok(Some(Err(e))) => return Err(ApiError::bad(format!("could not read the body: {e}"))),
        };
        received += chunk.len();
        if received > limit {
            return Err(refused.unwrap_or_else(too_large));
        }
        if refused.is_some() {
            continue;
        }
        if let Err(e) = inspect(&chunk) {
            refused = Some(e);
            buf = Vec::new();
            continue;
        }
        buf.extend_from_slice(&chunk);
    }
    match refused {
        Some(e) => Err(e),
        None => Ok(Bytes::from(buf)),
    }
}

/// Parse a body that must be a JSON object into `T`, a struct of borrowed
/// raw fields: unknown keys are skipped without being kept.
pub fn parse_object<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> ApiResult<T> {
    let not_json = |e: serde_json::Error| ApiError::bad(format!("the body is not valid JSON: {e}"));
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        serde_json::from_slice::<IgnoredAny>(bytes).map_err(not_json)?;
        return Err(ApiError::bad("the body must be a JSON object"));
    }
    serde_json::from_slice(bytes).map_err(not_json)
}

/// Whether a raw JSON value is an object (a struct would also take an array).
pub fn is_object(raw: &RawValue) -> bool {
    raw.get().starts_with('{')
}

/// A raw field as an optional string: absent and null are None; Err when it
/// is something else.
pub fn raw_string(raw: Option<&RawValue>) -> Result<Option<String>, ()> {
    match raw {
        None => Ok(None),
        Some(raw) => serde_json::from_str(raw.get()).map_err(|_| ()),
    }
}

/// The elements of a raw JSON array, at most `limit` of them (None when it
/// is not an array, `Err` when it has more).
pub fn raw_elements(raw: &RawValue, limit: usize) -> Result<Option<Vec<&RawValue>>, ()> {
    struct Elements<'a> {
        out: Vec<&'a RawValue>,
        limit: usize,
        too_many: bool,
    }
    impl<'a> Visitor<'a> for &mut Elements<'a> {
        type Value = ();

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array")
        }

        fn visit_seq<A: SeqAccess<'a>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(element) = seq.next_element()? {
                if self.out.len() == self.limit {
                    self.too_many = true;
                    return Err(serde::de::Error::custom("too many elements"));
                }
                self.out.push(element);
            }
            Ok(())
        }
    }
    if !raw.get().starts_with('[') {
        return Ok(None);
    }
    let mut elements = Elements {
        out: Vec::new(),
        limit,
        too_many: false,
    };
    let mut de = serde_json::Deserializer::from_str(raw.get());
    match de.deserialize_seq(&mut elements) {
        Ok(()) => Ok(Some(elements.out)),
        Err(_) if elements.too_many => Err(()),
        Err(_) => Ok(None),
    }
}

/// Why a `content_blocks` array was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum BlocksError {
    /// Element `j` is not an object.
    NotObject(usize),
    /// More than the allowed number of blocks.
    TooMany,
    /// Not an array.
    NotArray,
}

/// Count the blocks of a `content_blocks` array, checking each is an
/// object, allowing at most `limit`; nothing is kept.
pub fn count_blocks(raw: &RawValue, limit: usize) -> Result<usize, BlocksError> {
    if !raw.get().starts_with('[') {
        return Err(BlocksError::NotArray);
    }
    let mut scan = BlockScan {
        count: 0,
        limit,
        too_many: false,
    };
    let mut de = serde_json::Deserializer::from_str(raw.get());
    match de.deserialize_seq(&mut scan) {
        Ok(()) => Ok(scan.count),
        Err(_) if scan.too_many => Err(BlocksError::TooMany),
        Err(_) => Err(BlocksError::NotObject(scan.count)),
    }
}

struct BlockScan {
    count: usize,
    limit: usize,
    too_many: bool,
}

impl<'de> Visitor<'de> for &mut BlockScan {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(AnObject)?.is_some() {
            self.count += 1;
            if self.count > self.limit {
                self.too_many = true;
                return Err(serde::de::Error::custom("too many blocks"));
            }
        }
        Ok(())
    }
}

/// Accepts any object (skipping its content) and nothing else.
struct AnObject;

impl<'de> DeserializeSeed<'de> for AnObject {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AnObject {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// Re-encode a raw JSON value compactly (what storing a parsed value used
/// to give), streaming: no tree of the value is built.
pub fn compact(raw: &RawValue) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(raw.get().len());
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_transcode::transcode(&mut de, &mut serde_json::Serializer::new(&mut out))?;
    de.end()?;
    // The serializer writes only valid UTF-8.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// Counts the content blocks of an append body while it arrives, so a body
/// over the block limits is refused after the first bytes past the limit,
/// not after all of it was kept. It follows the JSON structure only as far
/// as `{"messages": [{"content_blocks": [ ... ]}]}`; malformed JSON is left
/// for the parser to refuse, and the parsed body is checked again.
#[derive(Default)]
pub struct BlockCounter {
    /// The open containers, outermost first, as far as four levels.
    stack: Vec<Frame>,
    /// Open containers below those four.
    deep: usize,
    in_string: bool,
    escape: bool,
    /// Inside a scalar other than a string (a number, true, false, null).
    in_scalar: bool,
    /// The key being read, when a string is a key of a tracked object.
    key: Option<Vec<u8>>,
    /// Messages seen so far; the current one is `messages - 1`.
    messages: usize,
    in_message: usize,
    total: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Messages,
    ContentBlocks,
    Other,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    Object { key: Key, want_key: bool },
    MessagesArray,
    BlocksArray,
    OtherArray,
}

const TRACKED_DEPTH: usize = 4;

impl BlockCounter {
    /// Feed the next bytes of the body.
    pub fn feed(&mut self, bytes: &[u8]) -> ApiResult<()> {
        for &b in bytes {
            if self.in_string {
                self.string_byte(b);
                continue;
            }
            if self.in_scalar {
                if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                    self.in_scalar = false;
                } else {
                    continue;
                }
            }
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => {}
                b'"' => {
                    self.in_string = true;
                    if let Some(Frame::Object { want_key: true, .. }) = self.top() {
                        self.key = Some(Vec::new());
                    } else {
                        self.value_start()?;
                    }
                }
                b'{' => {
                    self.value_start()?;
                    self.push(Frame::Object {
                        key: Key::Other,
                        want_key: true,
                    });
                }
                b'[' => {
                    self.value_start()?;
                    let frame = match (self.stack.as_slice(), self.deep) {
                        (
                            [Frame::Object {
                                key: Key::Messages, ..
                            }],
                            0,
                        ) => Frame::MessagesArray,
                        (
                            [Frame::Object { .. }, Frame::MessagesArray, Frame::Object {
                                key: Key::ContentBlocks,
                                ..
                            }],
                            0,
                        ) => Frame::BlocksArray,
                        _ => Frame::OtherArray,
                    };
                    self.push(frame);
                }
                b'}' | b']' => {
                    if self.deep > 0 {
                        self.deep -= 1;
                    } else {
                        self.stack.pop();
                    }
                }
                b':' => self.set_want_key(false),
                b',' => self.set_want_key(true),
                _ => {
                    self.value_start()?;
                    self.in_scalar = true;
                }
            }
        }
        Ok(())
    }

    fn string_byte(&mut self, b: u8) {
        if self.escape {
            self.escape = false;
        } else if b == b'\\' {
            self.escape = true;
            // An escaped key is not compared (the parser counts it).
            if let Some(key) = &mut self.key {
                key.clear();
                key.push(0);
            }
            return;
        } else if b == b'"' {
            self.in_string = false;
            if let Some(key) = self.key.take() {
                let kind = match key.as_slice() {
                    b"messages" => Key::Messages,
                    b"content_blocks" => Key::ContentBlocks,
                    _ => Key::Other,
                };
                let tracked = self.deep == 0;
                if let Some(Frame::Object { key, .. }) = self.stack.last_mut().filter(|_| tracked) {
                    *key = kind;
                }
            }
            return;
        }
        if let Some(key) = &mut self.key {
            if key.len() < 16 {
                key.push(b);
            }
        }
    }

    fn top(&self) -> Option<Frame> {
        if self.deep > 0 {
            None
        } else {
            self.stack.last().copied()
        }
    }

    fn push(&mut self, frame: Frame) {
        if self.deep > 0 || self.stack.len() >= TRACKED_DEPTH {
            self.deep += 1;
        } else {
            self.stack.push(frame);
        }
    }

    fn set_want_key(&mut self, want: bool) {
        if self.deep == 0 {
            if let Some(Frame::Object { want_key, .. }) = self.stack.last_mut() {
                *want_key = want;
            }
        }
    }

    /// A value starts in the innermost container.
    fn value_start(&mut self) -> ApiResult<()> {
        match self.top() {
            Some(Frame::MessagesArray) => {
                self.messages += 1;
                self.in_message = 0;
                if self.messages > MAX_MESSAGES_PER_REQUEST {
                    return Err(too_many_messages());
                }
            }
            Some(Frame::BlocksArray) => {
                self.in_message += 1;
                self.total += 1;
                if self.in_message > MAX_BLOCKS_PER_MESSAGE {
                    return Err(too_many_blocks_in_message(self.messages.saturating_sub(1)));
                }
                if self.total > MAX_BLOCKS_PER_REQUEST {
                    return Err(too_many_blocks_in_request());
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(n: usize) -> String {
        vec!["{}"; n].join(",")
    }

    fn feed_all(text: &str, chunk: usize) -> ApiResult<()> {
        let mut c = BlockCounter::default();
        for part in text.as_bytes().chunks(chunk) {
            c.feed(part)?;
        }
        Ok(())
    }

    #[test]
    fn the_counter_refuses_what_the_limits_refuse_in_any_chunking() {
        let ok = format!(
            r#"{{"x": [[[["content_blocks"]]]], "messages": [{{"role": "user", "uuid": "a\"]", "content_blocks": [{}], "n": -1.5e3}}, {{"content_blocks": [{}]}}]}}"#,
            blocks(MAX_BLOCKS_PER_MESSAGE),
            blocks(MAX_BLOCKS_PER_MESSAGE)
        );
        let per_message = format!(
            r#"{{"messages": [{{"content_blocks": [{{"a": [1, {{}}]}}]}}, {{"content_blocks": [{}]}}]}}"#,
            blocks(MAX_BLOCKS_PER_MESSAGE + 1)
        );
        let one = format!(r#"{{"content_blocks": [{}]}}"#, blocks(4000));
        let per_request = format!(
            r#"{{"messages": [{}]}}"#,
            vec![one.as_str(); MAX_BLOCKS_PER_REQUEST / 4000 + 1].join(",")
        );
        let messages = format!(
            r#"{{"messages": [{}]}}"#,
            vec!["{}"; MAX_MESSAGES_PER_REQUEST + 1].join(",")
        );
        for chunk in [1, 7, 4096] {
            assert!(feed_all(&ok, chunk).is_ok());
            let e = feed_all(&messages, chunk).unwrap_err();
            assert!(e.1.contains("messages, the limit"), "{}", e.1);
            let e = feed_all(&per_message, chunk).unwrap_err();
            assert_eq!(e.0, StatusCode::PAYLOAD_TOO_LARGE);
            assert!(e.1.contains("messages[1].content_blocks"), "{}", e.1);
            let e = feed_all(&per_request, chunk).unwrap_err();
            assert!(e.1.contains("per request"), "{}", e.1);
        }
        // Blocks elsewhere, strings and deep nesting are not counted.
        let elsewhere = format!(
            r#"{{"other": {{"content_blocks": [{b}]}}, "messages": [{{"x": {{"content_blocks": [{b}]}}, "s": "[{b}]"}}]}}"#,
            b = blocks(MAX_BLOCKS_PER_MESSAGE + 1)
        );
        assert!(feed_all(&elsewhere, 3).is_ok());
    }

    #[test]
    fn count_blocks_checks_objects_and_the_limit() {
        let raw = |s: &str| RawValue::from_string(s.to_string()).unwrap();
        assert_eq!(count_blocks(&raw(r#"[{}, {"a": [1]}]"#), 2), Ok(2));
        assert_eq!(count_blocks(&raw("[]"), 2), Ok(0));
        assert_eq!(
            count_blocks(&raw(r#"[{}, "text"]"#), 5),
            Err(BlocksError::NotObject(1))
        );
        assert_eq!(
            count_blocks(&raw("[{}, {}, {}]"), 2),
            Err(BlocksError::TooMany)
        );
        assert_eq!(count_blocks(&raw("{}"), 2), Err(BlocksError::NotArray));
    }

    #[test]
    fn raw_elements_are_bounded() {
        let raw = |s: &str| RawValue::from_string(s.to_string()).unwrap();
        let two = raw(r#"[{"a": 1}, "x"]"#);
        let got = raw_elements(&two, 2).unwrap().unwrap();
        assert_eq!(got[1].get(), r#""x""#);
        assert!(raw_elements(&two, 1).is_err());
        assert!(matches!(raw_elements(&raw("{}"), 1), Ok(None)));
    }

    #[test]
    fn compact_is_what_a_parsed_value_gave() {
        let text = r#" [ {"b": 1.0, "a": "\u00e9\n", "c": [1e2, -0, null, true]} ] "#;
        let raw = RawValue::from_string(text.trim().to_string()).unwrap();
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            compact(&raw).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
    }
}
