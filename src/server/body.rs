//! Reading request bodies within bounds: bytes (CONTRACT.md §2) and time
//! (a client that trickles its body does not hold a connection for ever).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use futures_util::StreamExt;

use super::api::{ApiError, ApiResult};

/// Beyond the body timeout, a body may take one more second per this many
/// bytes received, so a large batch on a slow link is not cut off while a
/// client that trickles bytes is.
pub const BODY_BYTES_PER_EXTRA_SECOND: u64 = 64 * 1024;

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
