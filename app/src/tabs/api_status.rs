//! The API status tab: a live check of `GET /health` made from the browser when the tab
//! opens, and the time of the last successful check.

use gatehouse_model::{Health, HealthStatus};
use leptos::prelude::*;

use crate::widgets::ui::format_time;

/// Fetches `/health` from the browser, as a status page would.
async fn fetch_health() -> Result<Health, String> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen_futures::JsFuture;
        let window = web_sys::window().ok_or("no window")?;
        let unreachable = |_| "The API did not answer.".to_owned();
        let response = JsFuture::from(window.fetch_with_str("/health"))
            .await
            .map_err(unreachable)?;
        let response: web_sys::Response = response.dyn_into().map_err(unreachable)?;
        let text = JsFuture::from(response.text().map_err(unreachable)?)
            .await
            .map_err(unreachable)?;
        let text = text.as_string().unwrap_or_default();
        let health: Health = serde_json::from_str(&text)
            .map_err(|_| format!("The API answered with HTTP {}.", response.status()))?;
        Ok(health)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Err("Checking…".to_owned())
    }
}

#[component]
pub fn ApiStatusTab() -> impl IntoView {
    let health = LocalResource::new(fetch_health);
    let last_success = RwSignal::new(None::<String>);
    view! {
        <div class="card status">
            <h2>"API status"</h2>
            <p class="muted">"A live check of GET /health, made when this tab opens. It is not an incident history."</p>
            // Its own boundary: the check's wait shows here, not as the whole page's
            // (everything that reads the check sits inside it).
            <Transition fallback=|| view! { <p class="status-line">"Checking…"</p> }>
                <CheckResult health last_success />
            </Transition>
            <p>"Last successful check: " <span data-testid="last-success">{move || last_success.get().unwrap_or_else(|| "none yet".to_owned())}</span></p>
            <button type="button" on:click=move |_| health.refetch()>"Check again"</button>
        </div>
    }
}

/// What the check answered; a good answer's time becomes the last successful check.
#[component]
fn CheckResult(
    health: LocalResource<Result<Health, String>>,
    last_success: RwSignal<Option<String>>,
) -> impl IntoView {
    Effect::new(move |_| {
        if let Some(Ok(health)) = health.get().filter(|result| {
            result
                .as_ref()
                .is_ok_and(|health| health.status == HealthStatus::Ok)
        }) {
            last_success.set(Some(format_time(&health.checked_at)));
        }
    });
    move || {
        match health.get() {
        None => view! { <p class="status-line">"Checking…"</p> }.into_any(),
        Some(Ok(health)) if health.status == HealthStatus::Ok => view! {
            <p class="status-line operational" data-testid="api-status">"Operational"</p>
            <p class="muted small">"Version " {health.version}</p>
        }
        .into_any(),
        Some(Ok(health)) => view! {
            <p class="status-line degraded" data-testid="api-status">"Degraded: " {health.status.as_str()}</p>
        }
        .into_any(),
        Some(Err(message)) => view! {
            <p class="status-line degraded" data-testid="api-status">"Unavailable: " {message}</p>
        }
        .into_any(),
    }
    }
}
