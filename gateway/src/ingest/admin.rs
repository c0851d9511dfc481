//! `POST /admin/reload`: reload the config file and plugins now, the same path as the
//! file watch and `SIGHUP`. Needs a token when `[server] tokens` is set. Answers `200`
//! with what changed (`{"result": "applied", "generation": 4, "applied": ["plugins"],
//! "restart_needed": [], "elapsed_ms": 12}`), or `422` with the stage that failed and why
//! (`{"result": "failed", "stage": "load", "error": "…"}`) while the old chain keeps
//! serving.

use super::AppState;
use crate::reload::Trigger;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// `POST /admin/reload`.
pub(super) async fn reload(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !state.limits.load().tokens.allows(&headers, None) {
        let body = serde_json::json!({ "error": "authorization failed" });
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    let Some(reloader) = &state.reloader else {
        let body = serde_json::json!({ "error": "reloading is not enabled" });
        return (StatusCode::NOT_IMPLEMENTED, axum::Json(body)).into_response();
    };
    let report = reloader.reload(Trigger::Admin).await;
    let status = if report.is_applied() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (status, axum::Json(report.to_json())).into_response()
}
