//! The Overview tab: the plan and its usage, what is configured, the selected app, the
//! keys that expire soon and the launch checklist.

use gatehouse_model::Overview;
use leptos::prelude::*;

use crate::server_fns::load_overview;
use crate::ui::{app_label, format_time, show_error};

#[component]
pub fn OverviewTab() -> impl IntoView {
    let overview = Resource::new(|| (), |_| load_overview());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <OverviewCards overview /> }.into_any(),
                    Err(error) => show_error(error, move || overview.refetch()),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OverviewCards(overview: Overview) -> impl IntoView {
    let selected = overview.selected_app.as_ref().map(app_label);
    let has_app = selected.is_some();
    view! {
        <div class="cards">
            <div class="card" data-testid="plan-card">
                <h3>"Plan"</h3>
                <p class="figure">{overview.plan.as_str()}</p>
                <p>"Subscription: " {overview.subscription_state.as_str()}</p>
                <p>"Paywall: " <span data-testid="paywall-state">{overview.paywall_state.as_str()}</span></p>
            </div>
            <div class="card">
                <h3>"Platform calls this month"</h3>
                <p class="figure">{overview.monthly_calls_used} " / " {overview.monthly_call_limit}</p>
            </div>
            <div class="card">
                <h3>"Configured"</h3>
                <p>"Apps: " <span data-testid="app-count">{overview.app_count}</span></p>
                <p>"API keys: " <span data-testid="api-key-count">{overview.api_key_count}</span></p>
                <p>"Webhook endpoints: " <span data-testid="endpoint-count">{overview.webhook_endpoint_count}</span></p>
            </div>
            <div class="card" data-testid="selected-app-card">
                <h3>"Selected app"</h3>
                <p data-testid="selected-app">{selected.unwrap_or_else(|| "No app selected".to_owned())}</p>
            </div>
        </div>
        {(!overview.expiring_keys.is_empty()).then(|| view! {
            <div class="card warning" data-testid="expiring-keys">
                <h3>"Keys expiring soon"</h3>
                <ul>
                    {overview.expiring_keys.iter().map(|key| view! {
                        <li>
                            <strong>{key.name.clone()}</strong> " (" <code>{key.masked_key.clone()}</code> ", "
                            {key.app_name.clone()} ") expires " {format_time(&key.expires_at)}
                        </li>
                    }).collect_view()}
                </ul>
                <p><a href="/settings/developers/api-keys">"Rotate or replace them in API keys"</a></p>
            </div>
        })}
        <div class="card checklist">
            <h3>"Launch checklist"</h3>
            <ol>
                <li class:done=has_app>"Create or select an app"</li>
                <li>"Issue the right key type for the customer integration"</li>
                <li>"Configure webhooks if the customer needs event delivery"</li>
                <li>"Copy the one-time secret into the customer system immediately"</li>
                <li>"Hand the customer off to the reference docs for ongoing development"</li>
            </ol>
        </div>
    }
}
