//! Extractors whose rejections use the API's error shape.
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// `axum::Json` whose rejection is an [`ApiError`]: 400 naming the problem (syntax, a missing
/// or mistyped field), 413 for an oversized body, 415 without a JSON content type.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(ApiError::from(r)),
        }
    }
}

/// A numeric id from the path; anything else is answered as a record that does not exist.
pub fn parse_id(what: &str, raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found(what, format!("{raw:?}")))
}

/// An optional numeric query parameter; a malformed one is a 400 that names it.
pub fn query_i64(
    q: &std::collections::HashMap<String, String>,
    name: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, ApiError> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::bad_request(
                format!("query parameter {name}={v:?} is not a whole number from {min} to {max}"),
                format!("send {name} as a number from {min} to {max}, or leave it out"),
            )),
        },
    }
}
