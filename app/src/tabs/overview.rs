//! The Overview tab: the person's alerts (notices until dismissed, and which kinds
//! they receive), the plan and its usage, what is configured, the selected app, the
//! keys that expire soon and the setup guide.

use gatehouse_model::{AlertId, AlertPreference, AlertsPanel, Overview, SetupGuide, SetupStep};
use leptos::prelude::*;

use crate::server_fns::{
    dismiss_alert, dismiss_setup_guide, load_alerts, load_overview, set_alert_preference,
};
use crate::widgets::ui::{format_count, format_time, show_error};

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
    let selected = overview.selected_app.clone();
    view! {
        <div class="cards">
            <div class="card" data-testid="plan-card">
                <h3>"Plan"</h3>
                <p class="figure">{overview.plan.as_str()}</p>
                <p>"Subscription: " {overview.subscription_state.label()}</p>
                <p>"API access: " <span data-testid="paywall-state" data-state=overview.paywall_state.as_str()>{overview.paywall_state.label()}</span></p>
            </div>
            <div class="card">
                <h3>"Platform calls this month"</h3>
                <p class="figure">{format_count(overview.monthly_calls_used)} " / " {format_count(overview.monthly_call_limit)}</p>
            </div>
            <div class="card">
                <h3>"Configured"</h3>
                <p>"Apps: " <span data-testid="app-count">{overview.app_count}</span></p>
                <p>"API keys: " <span data-testid="api-key-count">{overview.api_key_count}</span></p>
                <p>"Webhook endpoints: " <span data-testid="endpoint-count">{overview.webhook_endpoint_count}</span></p>
            </div>
            <div class="card" data-testid="selected-app-card">
                <h3>"Selected app"</h3>
                {match selected {
                    Some(app) => view! {
                        <p data-testid="selected-app"><strong>{app.name.clone()}</strong></p>
                        <p class="muted small">"App ID " <code class="id">{app.id.to_string()}</code></p>
                    }.into_any(),
                    None => view! { <p data-testid="selected-app">"No app selected"</p> }.into_any(),
                }}
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
        <SetupGuideCard guide=overview.setup_guide />
    }
}

/// A step of the setup guide as the Overview shows it: what to do, why, and the tab
/// where it is done.
fn step_text(step: SetupStep) -> (&'static str, &'static str, &'static str) {
    match step {
        SetupStep::CreateApp => (
            "Create an app",
            "Keys, webhooks and usage belong to an app.",
            "/settings/developers/apps",
        ),
        SetupStep::CreateKey => (
            "Create an API key",
            "Restricted to the scopes its program needs. Copy its secret when it is shown: it is shown once.",
            "/settings/developers/api-keys",
        ),
        SetupStep::FirstCall => (
            "Make a first call with the key",
            "GET /v1/whoami answers with the key's app and scopes.",
            "/settings/developers/docs",
        ),
        SetupStep::AddEndpoint => (
            "Add a webhook endpoint",
            "A URL of yours that receives signed events.",
            "/settings/developers/webhooks",
        ),
        SetupStep::FirstDelivery => (
            "Receive a first event",
            "Send a test event from the endpoint's Manage dialog; it is done when your receiver answers 2xx.",
            "/settings/developers/webhooks",
        ),
    }
}

/// The setup guide: each step ticks itself from the workspace's state and links to where
/// it is done; once all are done, the person can dismiss it.
#[component]
fn SetupGuideCard(guide: SetupGuide) -> impl IntoView {
    if guide.dismissed {
        return ().into_any();
    }
    let dismiss = Action::new(|_: &()| dismiss_setup_guide());
    let dismissed = move || dismiss.value().with(|done| matches!(done, Some(Ok(_))));
    let done_count = SetupStep::ALL
        .iter()
        .filter(|step| guide.is_done(**step))
        .count();
    let total = SetupStep::ALL.len();
    let complete = guide.is_complete();
    let next = SetupStep::ALL
        .iter()
        .copied()
        .find(|step| !guide.is_done(*step));
    let steps = SetupStep::ALL
        .iter()
        .map(|step| {
            let (label, why, href) = step_text(*step);
            let done = guide.is_done(*step);
            let current = next == Some(*step);
            view! {
                <li class="setup-step" class:done=done class:current=current
                    data-testid="setup-step" data-step=step.as_str() data-done=done.to_string()>
                    <span class="step-mark" aria-hidden="true">{if done { "✓" } else { "" }}</span>
                    <div>
                        <a href=href aria-current=current.then_some("step")>{label}</a>
                        <span class="visually-hidden">{if done { " (done)" } else { " (to do)" }}</span>
                        <p class="muted small">{why}</p>
                    </div>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card setup-guide" aria-labelledby="setup-guide-title" data-testid="setup-guide"
            hidden=dismissed>
                <div class="setup-header">
                    <h3 id="setup-guide-title">"Set up your integration"</h3>
                    <span class="muted small" data-testid="setup-progress">{format!("{done_count} of {total} done")}</span>
                </div>
                <progress max=total.to_string() value=done_count.to_string() aria-label="Setup progress"></progress>
                <ol class="setup-steps">{steps}</ol>
                {complete.then(|| view! {
                    <div class="form-actions">
                        <span>"Your integration is set up."</span>
                        <button type="button" class="secondary" disabled=move || dismiss.pending().get()
                            on:click=move |_| { dismiss.dispatch(()); }>"Dismiss the guide"</button>
                    </div>
                })}
                <p class="error" role="alert">{move || dismiss.value().get().and_then(Result::err).map(|error| error.to_string())}</p>
        </section>
    }
    .into_any()
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
