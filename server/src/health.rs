//! `GET /health`: `{status, checked_at, version}`, 503 when the database
//! does not answer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use gatehouse_model::{Health, HealthStatus};

use crate::state::AppState;

pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let database_answers = state.gatehouse.db().ping().await;
    let health = Health {
        status: if database_answers {
            HealthStatus::Ok
        } else {
            HealthStatus::Unavailable
        },
        checked_at: chrono::Utc::now(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let status = if database_answers {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(health))
}
