//! The one error shape of the API: `{ "error": what went wrong, "fix": what to do about it }`
//! with a status that says whose mistake it was. Client mistakes are 4xx; a 5xx means the server
//! or its database failed, and its cause is logged, not sent.
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub fix: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>, fix: impl Into<String>) -> Self {
        ApiError {
            status,
            error: error.into(),
            fix: fix.into(),
        }
    }

    pub fn bad_request(error: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, fix)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "not logged in, or the session has expired",
            "log in with POST /api/login and send the session cookie it sets",
        )
    }

    pub fn forbidden(error: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            error,
            "ask an administrator for an account with the needed role",
        )
    }

    /// Also used for records outside the caller's scope, so that their existence does not leak.
    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("{what} {id} does not exist"),
            format!("check the {what}'s id; you can see only records within your scope"),
        )
    }

    /// A failure that is not the client's: logged with its cause, answered without it.
    pub fn internal(context: &str, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(context, error = %cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the server could not {context}"),
            "try again; if it persists, the server's log says why",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.error, "fix": self.fix }));
        (self.status, body).into_response()
    }
}

impl From<store::Error> for ApiError {
    fn from(e: store::Error) -> Self {
        use store::Error as E;
        match &e {
            E::Invalid(d) => {
                ApiError::bad_request(d.to_string(), "correct the value and send it again")
            }
            E::NotFound { what, id } => ApiError::not_found(what, id),
            E::Conflict { .. } => ApiError::new(
                StatusCode::CONFLICT,
                e.to_string(),
                "the record already exists or was already decided; reload it",
            ),
            E::MissingReference { .. } | E::Rejected { .. } => {
                ApiError::bad_request(e.to_string(), "check the ids and values the request names")
            }
            _ => ApiError::internal("reach its database", &e),
        }
    }
}

/// A malformed body says what is wrong with it. Oversized bodies keep 413, a missing
/// `Content-Type: application/json` keeps 415; every other rejection is 400.
impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = match r.status() {
            s @ (StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE) => s,
            _ => StatusCode::BAD_REQUEST,
        };
        let fix = match status {
            StatusCode::PAYLOAD_TOO_LARGE => format!(
                "send at most {} bytes in a request body",
                crate::MAX_BODY_BYTES
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                "send the body as JSON with the header Content-Type: application/json".to_owned()
            }
            _ => "send a JSON object with the fields the OpenAPI document (/openapi.json) lists for this endpoint".to_owned(),
        };
        ApiError::new(status, r.body_text(), fix)
    }
}
