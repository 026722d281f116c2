//! Request bodies: size limit, media type, JSON.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use consoled_core::ConsoleError;
use serde_json::Value;

use crate::errors::ApiError;

/// The largest request body accepted (larger ones are a 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A request body parsed as JSON, checked as Nova checks it: at most
/// [`MAX_BODY_BYTES`] (413), a JSON media type or none (415), well-formed
/// JSON (400). The schema is the handler's business.
///
/// By hand rather than `via(axum::Json)`: Nova takes a body without a
/// media type, and each refusal needs its own fault and message, which
/// `Json`'s rejections do not map onto one to one. It reads no state, so
/// it works in any.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        JsonBytes::from_request(request, state).await?.value()
    }
}

/// A request body that passed [`JsonBody`]'s size and media type checks,
/// not parsed yet: for a handler that reads its one expected shape
/// straight into a struct, and parses a [`Value`] only to say what is
/// wrong with any other.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonBytes(pub Bytes);

impl JsonBytes {
    /// The body as JSON (400 when malformed).
    pub(crate) fn value(&self) -> Result<JsonBody, ApiError> {
        serde_json::from_slice(&self.0)
            .map(JsonBody)
            .map_err(|_| ApiError(ConsoleError::BadRequest("Malformed request body".into())))
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, Self::Rejection> {
        let too_large = || {
            ApiError(ConsoleError::OverLimit(format!(
                "Request is too large: the limit is {MAX_BODY_BYTES} bytes."
            )))
        };
        let headers = request.headers();
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(too_large());
        }
        if let Some(media) = headers.get(header::CONTENT_TYPE) {
            let media = media.to_str().unwrap_or_default();
            if !is_json(media) {
                return Err(ApiError(ConsoleError::BadMediaType(format!(
                    "Unsupported Content-Type: {}; send application/json",
                    media.chars().take(100).collect::<String>()
                ))));
            }
        }
        axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map(JsonBytes)
            .map_err(|_| too_large())
    }
}

/// `application/json` or any `+json` type (Nova also takes
/// `application/vnd.openstack.compute+json`), parameters ignored.
fn is_json(media: &str) -> bool {
    let essence = media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=UTF-8"));
        assert!(is_json(
            "application/vnd.openstack.compute+json;version=2.1"
        ));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json(""));
    }
}
