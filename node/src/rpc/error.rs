use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use consort_sdk::api::{ErrorBody, ErrorResponse};

/// An API error: HTTP status, stable code, readable message.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A request body that could not be read: too large (413 `body_too_large`) or broken.
    pub fn from_body_rejection(rejection: BytesRejection, limit: usize) -> ApiError {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let message = format!("request body is over the {limit}-byte limit");
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", message)
        } else {
            ApiError::bad_request("bad_body", rejection.body_text())
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> ApiError {
        tracing::error!(%err, "internal error serving a request");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("internal error: {err}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorResponse { error: ErrorBody { code: self.code.to_owned(), message: self.message } };
        (self.status, Json(body)).into_response()
    }
}

impl From<crate::storage::StoreError> for ApiError {
    fn from(e: crate::storage::StoreError) -> ApiError {
        ApiError::internal(e)
    }
}
