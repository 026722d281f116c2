//! The one error type of a console request, and its HTTP mapping.

/// What went wrong with a console request.
///
/// Each variant is one outcome of the compute API's error table: it knows
/// its HTTP status and its Nova fault name, so that the API maps errors in
/// one place. Messages are worded as Nova words them; [`Internal`] keeps its
/// detail for our log and shows the client a generic sentence.
///
/// [`Internal`]: ConsoleError::Internal
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleError {
    /// 400: malformed or invalid request.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no or invalid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the policy denies the call.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such thing, or not visible to the caller.
    #[error("{0}")]
    NotFound(String),
    /// 405: wrong method on a known route.
    #[error("{0}")]
    BadMethod(String),
    /// 406: a microversion outside the supported range.
    #[error("{0}")]
    NotAcceptable(String),
    /// 409: the server is in a state without a console.
    #[error("{0}")]
    Conflict(String),
    /// 413: request body too large.
    #[error("{0}")]
    OverLimit(String),
    /// 415: a body that is not JSON.
    #[error("{0}")]
    BadMediaType(String),
    /// 501: no driver for the pair, or the backend cannot serve it.
    #[error("{0}")]
    NotImplemented(String),
    /// 503: a dependency (token store, backend) is down or too slow.
    #[error("{0}")]
    ServiceUnavailable(String),
    /// 500: a bug. The detail is for our log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ConsoleError {
    /// The HTTP status code of this outcome.
    pub fn status(&self) -> u16 {
        match self {
            ConsoleError::BadRequest(_) => 400,
            ConsoleError::Unauthorized(_) => 401,
            ConsoleError::Forbidden(_) => 403,
            ConsoleError::NotFound(_) => 404,
            ConsoleError::BadMethod(_) => 405,
            ConsoleError::NotAcceptable(_) => 406,
            ConsoleError::Conflict(_) => 409,
            ConsoleError::OverLimit(_) => 413,
            ConsoleError::BadMediaType(_) => 415,
            ConsoleError::NotImplemented(_) => 501,
            ConsoleError::ServiceUnavailable(_) => 503,
            ConsoleError::Internal(_) => 500,
        }
    }

    /// The key of Nova's error body (`{"<name>": {"code", "message"}}`).
    pub fn fault_name(&self) -> &'static str {
        match self {
            ConsoleError::BadRequest(_) => "badRequest",
            ConsoleError::Unauthorized(_) => "unauthorized",
            ConsoleError::Forbidden(_) => "forbidden",
            ConsoleError::NotFound(_) => "itemNotFound",
            ConsoleError::BadMethod(_) => "badMethod",
            ConsoleError::Conflict(_) => "conflictingRequest",
            ConsoleError::OverLimit(_) => "overLimit",
            ConsoleError::BadMediaType(_) => "badMediaType",
            ConsoleError::NotImplemented(_) => "notImplemented",
            ConsoleError::ServiceUnavailable(_) => "serviceUnavailable",
            ConsoleError::NotAcceptable(_) | ConsoleError::Internal(_) => "computeFault",
        }
    }

    /// The message a client may see. Never carries internals.
    pub fn public_message(&self) -> String {
        match self {
            ConsoleError::Internal(_) => {
                "Unexpected API Error. Please report this at the consoled issue tracker \
                 and attach the request id if possible."
                    .to_owned()
            }
            other => other.to_string(),
        }
    }

    /// Whether the cause lies on our side (a 5xx), worth an error log line.
    pub fn is_server_fault(&self) -> bool {
        self.status() >= 500
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_detail_stays_private() {
        let e = ConsoleError::Internal("driver vnc/novnc panicked at secret.rs:1".into());
        assert_eq!(e.status(), 500);
        assert_eq!(e.fault_name(), "computeFault");
        assert!(!e.public_message().contains("secret"));
        assert!(e.to_string().contains("secret"));
    }

    #[test]
    fn names_follow_nova() {
        assert_eq!(
            ConsoleError::NotFound(String::new()).fault_name(),
            "itemNotFound"
        );
        assert_eq!(ConsoleError::Conflict(String::new()).status(), 409);
        assert_eq!(
            ConsoleError::NotImplemented(String::new()).fault_name(),
            "notImplemented"
        );
        assert_eq!(
            ConsoleError::ServiceUnavailable(String::new()).status(),
            503
        );
    }
}
