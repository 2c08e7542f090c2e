//! Small helpers that every part of the dashboard shares: how a time, a failed load, an
//! app (or the want of one) are shown, and how a one-per-line textarea is read. This
//! module depends on no page or tab, so pages and tabs can both use it without an import
//! circle.

use gatehouse_model::{AppView, KeyMode};
use leptos::prelude::*;

use crate::error::AppError;

/// A timestamp as the dashboard shows it: `2026-12-02 09:30:00 UTC`. Written out
/// by hand rather than with chrono's `format`, whose pattern interpreter would
/// otherwise be compiled into the wasm bundle.
pub fn format_time(time: &chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Timelike;
    format!(
        "{} {:02}:{:02}:{:02} UTC",
        format_day(time),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// A day as the dashboard shows it: `2026-12-02`.
pub fn format_day(time: &chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Datelike;
    format!("{:04}-{:02}-{:02}", time.year(), time.month(), time.day())
}

/// A server function's error in place of what failed to load, with a button that loads
/// it again (`retry`, usually the resource's `refetch`).
pub fn show_error(error: AppError, retry: impl Fn() + Send + Sync + 'static) -> AnyView {
    load_error(error.to_string(), retry).into_any()
}

/// A failed load of a list that loads by action (pages, "Load more"), shown where the
/// list goes while `message` has one, with a button that asks again.
pub fn failed_load(
    message: impl Fn() -> Option<String> + Send + Sync + 'static,
    retry: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    move || message().map(|message| load_error(message, retry))
}

fn load_error(message: String, retry: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    view! {
        <div class="load-error" role="alert" data-testid="load-error">
            <p class="error">{message}</p>
            <button type="button" class="secondary" on:click=move |_| retry()>"Try again"</button>
        </div>
    }
}

/// The empty state of a tab whose things belong to an app while no app is selected:
/// `bound` says how they are bound ("API keys are always bound to an app."), and the
/// text sends the reader to the Apps tab.
#[component]
pub fn NoAppSelected(bound: &'static str) -> impl IntoView {
    view! {
        <div class="empty-state" data-testid="no-app-selected">
            <h2>"Select an app first"</h2>
            <p>{format!("{bound} Create or select one in the ")}
                <a href="/settings/developers/apps">"Apps tab"</a> "."</p>
        </div>
    }
}

/// "Checkout (app_…)" for a selected app.
/// A count as people read it: `100,000`.
pub fn format_count(count: i64) -> String {
    let digits = count.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if count < 0 {
        grouped.push('-');
    }
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

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

/// How long a success notice stays before it goes away on its own.
pub const NOTICE_MS: u32 = 6_000;

/// A success notice (shown in a `role="status"` line) that goes away on its own
/// [`NOTICE_MS`] after it was last set; a newer notice restarts the wait.
pub fn passing_notice() -> RwSignal<Option<String>> {
    let notice = RwSignal::new(None::<String>);
    let generation = StoredValue::new(0_u64);
    Effect::new(move |_| {
        if notice.read().is_none() {
            return;
        }
        let shown = generation.get_value() + 1;
        generation.set_value(shown);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(NOTICE_MS).await;
            if generation.try_get_value() == Some(shown) {
                notice.try_set(None);
            }
        });
    });
    notice
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_days_are_written_in_full() {
        let time = chrono::DateTime::parse_from_rfc3339("2026-03-04T05:06:07Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(format_time(&time), "2026-03-04 05:06:07 UTC");
        assert_eq!(format_day(&time), "2026-03-04");
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1_000), "1,000");
        assert_eq!(format_count(100_000), "100,000");
        assert_eq!(format_count(1_234_567), "1,234,567");
        assert_eq!(format_count(-4_500), "-4,500");
    }
}
