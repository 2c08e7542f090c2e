//! The Developers tabs that hold data: Overview, Apps, Usage, API status, Integration logs.

use gatehouse_model::{AppId, AppInput, Health, Overview};
use leptos::prelude::*;

use crate::error::AppError;
use crate::pages::app_label;
use crate::server_fns::{
    create_app, load_apps, load_integration_logs, load_overview, select_app, update_app,
};

/// A timestamp as the dashboard shows it.
pub fn format_time(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn show_error(error: AppError) -> AnyView {
    view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any()
}

#[component]
pub fn OverviewTab() -> impl IntoView {
    let overview = Resource::new(|| (), |_| load_overview());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <OverviewCards overview /> }.into_any(),
                    Err(error) => show_error(error),
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

#[component]
pub fn UsageTab() -> impl IntoView {
    let overview = Resource::new(|| (), |_| load_overview());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! {
                        <dl class="facts">
                            <dt>"Plan"</dt><dd>{overview.plan.as_str()}</dd>
                            <dt>"Subscription state"</dt><dd>{overview.subscription_state.as_str()}</dd>
                            <dt>"platform.api"</dt><dd>{if overview.platform_api_enabled { "enabled" } else { "not enabled" }}</dd>
                            <dt>"Monthly platform-call limit"</dt><dd>{overview.monthly_call_limit}</dd>
                            <dt>"Used this billing window"</dt><dd>{overview.monthly_calls_used}</dd>
                            <dt>"Billing window"</dt>
                            <dd>{format_time(&overview.billing_window_start)} " – " {format_time(&overview.billing_window_end)}</dd>
                        </dl>
                    }.into_any(),
                    Err(error) => show_error(error),
                }
            })}
        </Suspense>
    }
}

/// Splits the origins textarea into one origin per line.
fn origin_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

#[component]
pub fn AppsTab() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let apps = Resource::new(move || version.get(), |_| load_apps());
    let editing = RwSignal::new(None::<AppId>);
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let origins = RwSignal::new(String::new());
    let notice = RwSignal::new(None::<String>);

    let save = Action::new(move |(app_id, input): &(Option<AppId>, AppInput)| {
        let (app_id, input) = (app_id.clone(), input.clone());
        async move {
            match app_id {
                Some(app_id) => update_app(app_id, input).await,
                None => create_app(input).await,
            }
        }
    });
    let select = Action::new(|app_id: &AppId| select_app(app_id.clone()));
    let reset_form = move || {
        editing.set(None);
        name.set(String::new());
        description.set(String::new());
        origins.set(String::new());
    };
    Effect::new(move |_| {
        if let Some(Ok(app)) = save.value().get() {
            notice.set(Some(format!("Saved {}.", app.name)));
            reset_form();
            version.update(|value| *value += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(app)) = select.value().get() {
            notice.set(Some(format!("{} is now the selected app.", app.name)));
            version.update(|value| *value += 1);
        }
    });
    let save_error = move || save.value().get().and_then(Result::err);
    let field_error =
        move |field: &'static str| move || save_error().and_then(|error| error.field(field));
    let general_error = move || {
        save_error()
            .filter(|error| error.0.details.fields.is_empty())
            .map(|error| error.to_string())
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        notice.set(None);
        let input = AppInput {
            name: name.get_untracked(),
            description: description.get_untracked(),
            allowed_origins: origin_lines(&origins.get_untracked()),
        };
        save.dispatch((editing.get_untracked(), input));
    };

    view! {
        <div class="two-columns">
            <div>
                <h2>"Apps"</h2>
                <p class="notice" role="status">{move || notice.get()}</p>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match apps.await {
                            Ok(page) if page.apps.is_empty() => view! {
                                <div class="empty-state"><p>"No apps yet. Create the first one with the form."</p></div>
                            }.into_any(),
                            Ok(page) => view! {
                                <ul class="app-list">
                                    {page.apps.into_iter().map(|app| {
                                        let is_selected = page.selected_app_id.as_ref() == Some(&app.id);
                                        let for_select = app.id.clone();
                                        let for_edit = app.clone();
                                        view! {
                                            <li class="app-row" class:selected=is_selected data-app-id=app.id.to_string()>
                                                <div>
                                                    <strong class="app-name">{app.name.clone()}</strong>
                                                    {is_selected.then(|| view! { <span class="badge">"Selected"</span> })}
                                                    <p class="muted">{app.description.clone()}</p>
                                                    <p class="muted small">"Origins: "
                                                        {if app.allowed_origins.is_empty() { "none".to_owned() } else { app.allowed_origins.join(", ") }}</p>
                                                    <p class="muted small">"Test tenant: " {app.test_tenant_id.to_string()}</p>
                                                </div>
                                                <div class="row-actions">
                                                    <button type="button" disabled=is_selected
                                                        on:click=move |_| { select.dispatch(for_select.clone()); }>"Select"</button>
                                                    <button type="button" on:click=move |_| {
                                                        editing.set(Some(for_edit.id.clone()));
                                                        name.set(for_edit.name.clone());
                                                        description.set(for_edit.description.clone());
                                                        origins.set(for_edit.allowed_origins.join("\n"));
                                                        notice.set(None);
                                                    }>"Edit"</button>
                                                </div>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(error) => show_error(error),
                        }
                    })}
                </Transition>
            </div>
            <form class="card app-form" on:submit=on_submit novalidate>
                <h2>{move || if editing.get().is_some() { "Edit app" } else { "Create app" }}</h2>
                <label for="app-name">"Name"</label>
                <input id="app-name" name="name" bind:value=name placeholder="Production integration" />
                <p class="field-error" data-field="name">{field_error("name")}</p>
                <label for="app-description">"Description"</label>
                <textarea id="app-description" name="description" bind:value=description rows="2"></textarea>
                <p class="field-error" data-field="description">{field_error("description")}</p>
                <label for="app-origins">"Allowed browser origins (one per line)"</label>
                <textarea id="app-origins" name="allowed_origins" bind:value=origins rows="3"
                    placeholder="https://app.example.com"></textarea>
                <p class="field-error" data-field="allowed_origins">{field_error("allowed_origins")}</p>
                <p class="error" role="alert">{general_error}</p>
                <div class="form-actions">
                    <button type="submit" disabled=move || save.pending().get()>
                        {move || if editing.get().is_some() { "Save changes" } else { "Create app" }}
                    </button>
                    {move || editing.get().is_some().then(|| view! {
                        <button type="button" class="secondary" on:click=move |_| reset_form()>"Cancel"</button>
                    })}
                </div>
            </form>
        </div>
    }
}

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
    Effect::new(move |_| {
        if let Some(Ok(health)) = health
            .get()
            .filter(|result| result.as_ref().is_ok_and(|health| health.status == "ok"))
        {
            last_success.set(Some(format_time(&health.checked_at)));
        }
    });
    view! {
        <div class="card status">
            <h2>"API status"</h2>
            <p class="muted">"A live check of GET /health, made when this tab opens. It is not an incident history."</p>
            {move || match health.get() {
                None => view! { <p class="status-line">"Checking…"</p> }.into_any(),
                Some(Ok(health)) if health.status == "ok" => view! {
                    <p class="status-line operational" data-testid="api-status">"Operational"</p>
                    <p class="muted small">"Version " {health.version}</p>
                }.into_any(),
                Some(Ok(health)) => view! {
                    <p class="status-line degraded" data-testid="api-status">"Degraded: " {health.status}</p>
                }.into_any(),
                Some(Err(message)) => view! {
                    <p class="status-line degraded" data-testid="api-status">"Unavailable: " {message}</p>
                }.into_any(),
            }}
            <p>"Last successful check: " <span data-testid="last-success">{move || last_success.get().unwrap_or_else(|| "none yet".to_owned())}</span></p>
            <button type="button" on:click=move |_| health.refetch()>"Check again"</button>
        </div>
    }
}

/// Events a page of the Integration logs shows (SPEC L-3).
const LOGS_PER_PAGE: usize = 5;

#[component]
pub fn IntegrationLogsTab() -> impl IntoView {
    let events = Resource::new(|| (), |_| load_integration_logs());
    let page = RwSignal::new(0usize);
    view! {
        <h2>"Integration logs"</h2>
        <p class="muted">"The latest 100 audit events, newest first."</p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(events) if events.is_empty() => view! { <p class="empty-state">"No activity yet."</p> }.into_any(),
                    Ok(events) => {
                        let pages = events.len().div_ceil(LOGS_PER_PAGE);
                        let rows = move || events.iter().skip(page.get() * LOGS_PER_PAGE).take(LOGS_PER_PAGE).map(|event| view! {
                            <tr>
                                <td>{format_time(&event.occurred_at)}</td>
                                <td>{event.actor_label.clone()}</td>
                                <td>{event.message.clone().unwrap_or_else(|| event.event_type.clone())}</td>
                            </tr>
                        }).collect_view();
                        view! {
                            <table class="logs">
                                <thead><tr><th>"Time"</th><th>"Source"</th><th>"Message"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                            <div class="pager">
                                <button type="button" disabled=move || page.get() == 0 on:click=move |_| page.update(|value| *value -= 1)>"Previous"</button>
                                <span>"Page " {move || page.get() + 1} " of " {pages}</span>
                                <button type="button" disabled=move || page.get() + 1 >= pages on:click=move |_| page.update(|value| *value += 1)>"Next"</button>
                            </div>
                        }.into_any()
                    }
                    Err(error) => show_error(error),
                }
            })}
        </Suspense>
    }
}
