//! Small helpers that every part of the dashboard shares: how a time, a failed load and
//! an app are shown, and how a one-per-line textarea is read. This module depends on no
//! page or tab, so pages and tabs can both use it without an import circle.

use gatehouse_model::{AppView, KeyMode};
use leptos::prelude::*;

use crate::error::AppError;

/// A timestamp as the dashboard shows it.
pub fn format_time(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A server function's error in place of what failed to load.
pub fn show_error(error: AppError) -> AnyView {
    view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any()
}

/// "Checkout (app_…)" for a selected app.
pub fn app_label(app: &AppView) -> String {
    format!("{} ({})", app.name, app.id)
}

/// The lines of a one-per-line textarea (allowed origins, typed scopes): each line
/// trimmed, blank lines dropped.
pub fn non_blank_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// "Live" or "Test".
pub fn mode_label(mode: KeyMode) -> &'static str {
    match mode {
        KeyMode::Live => "Live",
        KeyMode::Test => "Test",
    }
}

/// A keydown handler that closes a dialog on Escape.
pub fn on_escape(close: impl Fn() + Copy + 'static) -> impl Fn(leptos::ev::KeyboardEvent) {
    move |event| {
        if event.key() == "Escape" {
            close();
        }
    }
}
