//! The error type of the server-function boundary: the same stable code and message
//! as the API's error body, so the UI can show a message beside the right field.

use gatehouse_model::{ErrorCode, ErrorDetail, ErrorDetails};
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError(pub ErrorDetail);

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ErrorDetail {
            code,
            message: message.into(),
            details: ErrorDetails::default(),
        })
    }

    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    /// The message to show beside `field`, if the error names it.
    pub fn field(&self, field: &str) -> Option<String> {
        self.0.field_message(field)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0.message)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let code = match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
        };
        let message = match value {
            ServerFnErrorErr::Request(_) => {
                "Could not reach the server. Check your connection.".to_owned()
            }
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                "The request could not be read.".to_owned()
            }
            _ => "Something went wrong. Try again.".to_owned(),
        };
        Self::new(code, message)
    }
}

#[cfg(feature = "ssr")]
impl From<gatehouse_domain::DomainError> for AppError {
    fn from(error: gatehouse_domain::DomainError) -> Self {
        if error.is_internal() {
            tracing::error!(%error, "server function failed");
        }
        let detail = error.to_detail();
        // Answer with the status that goes with the code, not a blanket 500.
        if let (Some(response), Ok(status)) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(detail.code.http_status()),
        ) {
            response.set_status(status);
        }
        Self(detail)
    }
}
