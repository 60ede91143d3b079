//! API errors: JSON `{"error": {"code", "message", "fields"}}` with the matching HTTP status.

use std::collections::BTreeMap;

use axum::extract::FromRequest;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::accounts::AccountError;
use crate::db::DbError;
use crate::meetings::MeetingError;

/// Field name → what is wrong with it.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("please log in")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("the request lacks a valid CSRF token (header X-CSRF-Token must match the plenum_csrf cookie)")]
    Csrf,
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{message}")]
    Gone { code: &'static str, message: String, at: Option<String> },
    #[error("{message}")]
    NotOpen { message: String, opens_at: String, starts_at: String },
    #[error("a moderator removed you from this meeting; you cannot rejoin it")]
    Banned,
    #[error("an admin disabled this account")]
    AccountDisabled,
    #[error("some fields are invalid")]
    Validation(FieldErrors),
    #[error("too many failed logins; try again in {0} s")]
    TooManyRequests(u64),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn field(name: &str, message: impl Into<String>) -> ApiError {
        ApiError::Validation(BTreeMap::from([(name.to_owned(), message.into())]))
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Csrf => (StatusCode::FORBIDDEN, "csrf"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            ApiError::Gone { code, .. } => (StatusCode::GONE, code),
            ApiError::NotOpen { .. } => (StatusCode::FORBIDDEN, "meeting_not_open"),
            ApiError::Banned => (StatusCode::FORBIDDEN, "banned"),
            ApiError::AccountDisabled => (StatusCode::FORBIDDEN, "account_disabled"),
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation"),
            ApiError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// The error body (also the OpenAPI schema).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable: `unauthenticated`, `forbidden`, `csrf`, `not_found`, `conflict`, `validation`,
    /// `meeting_deleted`, `meeting_over`, `meeting_ended`, `meeting_not_open`, `guests_not_allowed`, `banned`, `account_disabled`, ...
    pub code: String,
    pub message: String,
    /// Per-field messages (validation errors).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: FieldErrors,
    /// For `meeting_not_open`: when it opens and starts (RFC 3339); for `meeting_deleted`/`meeting_over`: when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(detail) = &self {
            tracing::error!("api: {detail}");
        }
        let mut detail = ErrorDetail {
            code: code.to_owned(),
            message: self.to_string(),
            fields: FieldErrors::new(),
            opens_at: None,
            starts_at: None,
            at: None,
        };
        let mut retry_after = None;
        match self {
            ApiError::Validation(fields) => detail.fields = fields,
            ApiError::NotOpen { opens_at, starts_at, .. } => {
                detail.opens_at = Some(opens_at);
                detail.starts_at = Some(starts_at);
            }
            ApiError::Gone { at, .. } => detail.at = at,
            ApiError::TooManyRequests(secs) => retry_after = Some(secs),
            _ => {}
        }
        let mut response = (status, axum::Json(ErrorBody { error: detail })).into_response();
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::DuplicateEmail => ApiError::field("email", "an account with this email address exists already"),
            AccountError::NotFound => ApiError::NotFound("no such account"),
            AccountError::Conflict => ApiError::Conflict { code: "conflict", message: e.to_string() },
            AccountError::Db(e) => e.into(),
            AccountError::Password(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<MeetingError> for ApiError {
    fn from(e: MeetingError) -> Self {
        match e {
            MeetingError::NotFound => ApiError::NotFound("no such meeting"),
            MeetingError::Conflict => ApiError::Conflict { code: "conflict", message: e.to_string() },
            MeetingError::Db(e) => e.into(),
        }
    }
}

/// A JSON body whose errors are API errors: malformed JSON or a wrong field → 422 with the field's path.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::field("body", "cannot read the request body"))?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(de) {
            Ok(value) => Ok(ApiJson(value)),
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let text = inner.to_string();
                let missing = text.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
                let field = match missing {
                    Some(name) if path == "." => name.to_owned(),
                    Some(name) => format!("{path}.{name}"),
                    None if inner.is_syntax() || inner.is_eof() || path == "." => "body".to_owned(),
                    None => path,
                };
                let message = if inner.is_syntax() || inner.is_eof() {
                    format!("malformed JSON: {inner}")
                } else {
                    inner.to_string()
                };
                Err(ApiError::Validation(FieldErrors::from([(field, message)])))
            }
        }
    }
}
