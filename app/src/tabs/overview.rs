//! The Overview tab: the person's alerts (notices until dismissed, and which kinds
//! they receive), the plan and its usage, what is configured, the selected app, the
//! keys that expire soon and the launch checklist.

use gatehouse_model::{AlertId, AlertPreference, AlertsPanel, Overview};
use leptos::prelude::*;

use crate::server_fns::{dismiss_alert, load_alerts, load_overview, set_alert_preference};
use crate::widgets::ui::{app_label, format_time, show_error};

#[component]
pub fn OverviewTab() -> impl IntoView {
    let overview = Resource::new(|| (), |_| load_overview());
    let alerts = Resource::new(|| (), |_| load_alerts());
    // One boundary for both, so that the notices never push the cards down later.
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (panel, overview_loaded) = (alerts.await, overview.await);
                let alerts_view = match panel {
                    Ok(panel) => view! { <Alerts panel refetch=move || alerts.refetch() /> }.into_any(),
                    Err(error) => show_error(error, move || alerts.refetch()),
                };
                let cards = match overview_loaded {
                    Ok(overview) => view! { <OverviewCards overview /> }.into_any(),
                    Err(error) => show_error(error, move || overview.refetch()),
                };
                view! { {alerts_view} {cards} }.into_any()
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

/// The person's notices, each with Dismiss, and their choice per kind of alert.
#[component]
fn Alerts(panel: AlertsPanel, refetch: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let dismiss = Action::new(|alert_id: &AlertId| dismiss_alert(alert_id.clone()));
    let choose = Action::new(|preference: &AlertPreference| set_alert_preference(*preference));
    Effect::new(move |_| {
        if dismiss.value().with(|done| matches!(done, Some(Ok(())))) {
            refetch();
        }
    });
    let failure = move || {
        dismiss
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| choose.value().get().and_then(Result::err))
            .map(|error| error.to_string())
    };
    let notices = (!panel.notices.is_empty()).then(|| {
        view! {
            <section class="notices" aria-label="Alerts" data-testid="alert-notices">
                {panel.notices.iter().map(|alert| {
                    let alert_id = alert.id.clone();
                    view! {
                        <div class="card warning alert-notice" data-testid="alert-notice" data-kind=alert.kind.as_str()>
                            <h3>{alert.title.clone()}</h3>
                            <p class="alert-message">{alert.message.clone()}</p>
                            <p class="muted small time">{format_time(&alert.created_at)}</p>
                            <div class="form-actions">
                                <a href=alert.link.clone()>"Open"</a>
                                <button type="button" class="secondary" disabled=move || dismiss.pending().get()
                                    on:click=move |_| { dismiss.dispatch(alert_id.clone()); }>"Dismiss"</button>
                            </div>
                        </div>
                    }
                }).collect_view()}
            </section>
        }
    });
    let how = if panel.email_configured {
        "You receive these by email and here, as notices. Turn off what you do not want:"
    } else {
        "This Gatehouse sends no email (the operator has not set up SMTP): alerts show here as notices. Turn off what you do not want:"
    };
    view! {
        {notices}
        <details class="card alert-choices" data-testid="alert-choices">
            <summary>"Alerts"</summary>
            <p class="muted">{how}</p>
            {panel.preferences.iter().map(|preference| {
                let kind = preference.kind;
                let id = format!("alert-{}", kind.as_str());
                view! {
                    <div class="choice">
                        <input type="checkbox" id=id.clone() prop:checked=preference.enabled
                            disabled=move || choose.pending().get()
                            on:change=move |event| {
                                choose.dispatch(AlertPreference { kind, enabled: event_target_checked(&event) });
                            } />
                        <label for=id>{kind.label()}</label>
                    </div>
                }
            }).collect_view()}
            <p class="error" role="alert">{failure}</p>
        </details>
    }
}
