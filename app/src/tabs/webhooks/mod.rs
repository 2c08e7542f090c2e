//! The Webhooks tab: the selected app's endpoints, the create dialog with its family
//! picker, the one-time signing secret, and each endpoint's detail (edit, test event,
//! delivery log, replay, rotate, disable, delete) in [`detail`], and one message of its
//! log (body, attempts, headers) in [`message`]. Every rule is the
//! server's; this module gathers input, calls server functions and shows answers.

mod detail;
mod message;

use std::sync::Arc;

use gatehouse_model::{
    ALL_EVENT_FAMILIES, AppId, AttemptView, CreatedEndpoint, EndpointInput, EndpointListItem,
    EndpointStatus, KeyMode, WebhookEndpointId,
};
use leptos::prelude::*;

use crate::error::AppError;
use crate::server_fns::{create_webhook_endpoint, load_webhooks};
use crate::widgets::dialog::dialog_keys;
use crate::widgets::field_errors::FieldErrors;
use crate::widgets::one_time_secret::{OneTimeSecret, SecretDialog};
use crate::widgets::ui::{NoAppSelected, format_time, mode_label, show_error};
use detail::EndpointDetail;

type Answer<T> = Result<T, AppError>;

/// What the tab shares with its parts: the reload, the notice and the one-time secret.
#[derive(Clone, Copy)]
struct TabState {
    version: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
    secret: RwSignal<Option<OneTimeSecret>>,
    managing: RwSignal<Option<WebhookEndpointId>>,
}

impl TabState {
    fn reload(&self) {
        self.version.update(|value| *value += 1);
    }
}

/// An attempt's result as the delivery log and the message view say it.
fn attempt_result(attempt: &AttemptView) -> String {
    match (attempt.succeeded, attempt.http_status) {
        (true, Some(status)) => format!("Succeeded · HTTP {status}"),
        (_, Some(status)) => format!("Failed · HTTP {status}"),
        (_, None) => format!("Failed · {}", attempt.error.clone().unwrap_or_default()),
    }
}

/// The example types an endpoint subscribed to `families` receives (all, for "*").
fn receivable_types(example_types: &[String], families: &[String]) -> Vec<String> {
    example_types
        .iter()
        .filter(|event_type| {
            families.iter().any(|family| {
                family == ALL_EVENT_FAMILIES
                    || family
                        .strip_suffix('*')
                        .is_some_and(|prefix| event_type.starts_with(prefix))
            })
        })
        .cloned()
        .collect()
}

/// "All events" or the families, as the list shows them.
fn families_label(families: &[String]) -> String {
    if families.iter().any(|family| family == ALL_EVENT_FAMILIES) {
        "All events".to_owned()
    } else {
        families.join(", ")
    }
}

#[component]
pub fn WebhooksTab() -> impl IntoView {
    let state = TabState {
        version: RwSignal::new(0),
        notice: crate::widgets::ui::passing_notice(),
        secret: RwSignal::new(None),
        managing: RwSignal::new(None),
    };
    let page = Resource::new(move || state.version.get(), |_| load_webhooks());
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => match page.app {
                        None => view! { <NoAppSelected bound="Webhook endpoints are bound to an app." /> }.into_any(),
                        Some(app) => view! {
                            <EndpointsForApp
                                app_id=app.id
                                app_name=app.name
                                endpoints=Arc::new(page.endpoints)
                                families=Arc::new(page.event_families)
                                example_types=Arc::new(page.example_event_types)
                                http_networks=page.operator_allows_http_networks
                                state
                            />
                        }.into_any(),
                    },
                    Err(error) => show_error(error, move || page.refetch()),
                }
            })}
        </Transition>
        {move || state.secret.get().map(|shown| view! { <SecretDialog shown secret=state.secret /> })}
    }
}

#[component]
fn EndpointsForApp(
    app_id: AppId,
    app_name: String,
    endpoints: Arc<Vec<EndpointListItem>>,
    families: Arc<Vec<String>>,
    /// The event types "Send test event" can send an example of.
    example_types: Arc<Vec<String>>,
    /// Whether the operator lets live endpoints in some networks use plain http.
    http_networks: bool,
    state: TabState,
) -> impl IntoView {
    let creating = RwSignal::new(false);
    let create = Action::new(|input: &EndpointInput| {
        let input = input.clone();
        async move { create_webhook_endpoint(input).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(created)) = create.value().get() {
            create.value().set(None);
            creating.set(false);
            state
                .notice
                .set(Some(format!("Added {}.", created.endpoint.url)));
            state
                .secret
                .set(Some(OneTimeSecret::signing_secret(created, None)));
            state.reload();
        }
    });
    let open_create = move || {
        create.value().set(None);
        state.notice.set(None);
        creating.set(true);
    };
    let create_button = move || {
        view! {
            <button type="button" data-testid="create-endpoint" on:click=move |_| open_create()>
                "Add endpoint"
            </button>
        }
    };
    let has_endpoints = !endpoints.is_empty();
    let list = if has_endpoints {
        view! { <EndpointsTable endpoints=endpoints.clone() state /> }.into_any()
    } else {
        view! {
            <div class="empty-state" data-testid="endpoints-empty">
                <h2>"No webhook endpoints yet"</h2>
                <p>"Add an endpoint to have Gatehouse send signed events for " {app_name.clone()}
                    " to a URL of yours, with retries and a delivery log."</p>
                {create_button()}
            </div>
        }
        .into_any()
    };
    let dialog = {
        let families = families.clone();
        let app_id = app_id.clone();
        move || {
            creating.get().then(|| {
                view! {
                    <CreateEndpointDialog families=families.clone() app_id=app_id.clone() http_networks creating create />
                }
            })
        }
    };
    let detail = move || {
        let managing = state.managing.get()?;
        let item = endpoints
            .iter()
            .find(|item| item.endpoint.id == managing)?
            .clone();
        Some(
            view! { <EndpointDetail item families=families.clone() example_types=example_types.clone() state /> },
        )
    };
    view! {
        <header class="keys-header">
            <div>
                <h2 data-testid="endpoints-heading">"Webhook endpoints for " {app_name.clone()}</h2>
                <p class="muted small">"Endpoints are bound to this app. Each receives the events of its mode whose family it subscribes to, signed with its own secret (Standard Webhooks)."</p>
            </div>
            {has_endpoints.then(create_button)}
        </header>
        <p class="notice" role="status">{move || state.notice.get()}</p>
        {list}
        {dialog}
        {detail}
    }
}

#[component]
fn EndpointsTable(endpoints: Arc<Vec<EndpointListItem>>, state: TabState) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="data-table rows-on-phone" data-testid="endpoints-table">
                <caption class="visually-hidden">"Webhook endpoints"</caption>
                <thead>
                    <tr>
                        <th scope="col">"URL"</th>
                        <th scope="col">"Events"</th>
                        <th scope="col">"Mode"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Last delivery"</th>
                        <th scope="col">"24 h"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {endpoints.iter().map(|item| {
                        let endpoint = &item.endpoint;
                        let id = endpoint.id.clone();
                        let status = match endpoint.status {
                            EndpointStatus::Enabled => "Enabled".to_owned(),
                            EndpointStatus::Disabled => match endpoint.disabled_reason {
                                Some(gatehouse_model::DisabledReason::Gone) => "Disabled (410 Gone)".to_owned(),
                                Some(gatehouse_model::DisabledReason::Failing) => "Disabled (failing)".to_owned(),
                                _ => "Disabled".to_owned(),
                            },
                        };
                        view! {
                            <tr data-testid="endpoint-row" data-endpoint-id=endpoint.id.to_string()>
                                <td data-label="URL"><code class="url">{endpoint.url.clone()}</code>
                                    {(!endpoint.description.is_empty()).then(|| view! {
                                        <div class="muted small">{endpoint.description.clone()}</div>
                                    })}
                                </td>
                                <td data-label="Events">{families_label(&endpoint.event_families)}</td>
                                <td data-label="Mode">{mode_label(endpoint.mode)}</td>
                                <td data-label="Status"><span class=format!("status status-{}", endpoint.status.as_str())>{status}</span></td>
                                <td data-label="Last delivery">{item.last_attempt_at.as_ref().map(format_time).unwrap_or_else(|| "Never".to_owned())}</td>
                                <td data-label="24 h" data-testid="endpoint-counts">{format!("{} ok · {} failed", item.succeeded_24h, item.failed_24h)}</td>
                                <td class="actions">
                                    <button type="button" class="secondary" data-testid="manage-endpoint"
                                        on:click=move |_| state.managing.set(Some(id.clone()))>"Manage"</button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The family picker: "All events", or any of the catalog's families.
#[component]
fn FamilyPicker(
    families: Arc<Vec<String>>,
    chosen: RwSignal<Vec<String>>,
    id_prefix: &'static str,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let all = move || {
        chosen.with(|chosen| chosen.is_empty() || chosen.iter().any(|f| f == ALL_EVENT_FAMILIES))
    };
    let toggle = move |family: String, on: bool| {
        chosen.update(|chosen| {
            chosen.retain(|existing| existing != ALL_EVENT_FAMILIES && existing != &family);
            if on {
                chosen.push(family);
            }
        });
    };
    view! {
        <fieldset class="choices families">
            <legend>"Events to send"</legend>
            <div class="choice">
                <input type="checkbox" id=format!("{id_prefix}-family-all") prop:checked=all
                    on:change=move |event| if event_target_checked(&event) {
                        chosen.set(vec![ALL_EVENT_FAMILIES.to_owned()]);
                    } else {
                        chosen.set(Vec::new());
                    } />
                <label for=format!("{id_prefix}-family-all")>"All events"</label>
            </div>
            {families.iter().map(|family| {
                let id = format!("{id_prefix}-family-{}", family.trim_end_matches(".*"));
                let family = family.clone();
                let checked = {
                    let family = family.clone();
                    move || !all() && chosen.with(|chosen| chosen.contains(&family))
                };
                let label = family.clone();
                view! {
                    <div class="choice">
                        <input type="checkbox" id=id.clone() prop:checked=checked
                            on:change=move |event| toggle(family.clone(), event_target_checked(&event)) />
                        <label for=id><code>{label}</code></label>
                    </div>
                }
            }).collect_view()}
            <p class="field-error" data-field="event_families">{error}</p>
        </fieldset>
    }
}

/// What the rate field holds: nothing (no limit) or a whole number.
fn typed_rate(text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u32>()
        .map(Some)
        .map_err(|_| "Enter a whole number of deliveries per second, or leave it empty.".to_owned())
}

#[component]
fn CreateEndpointDialog(
    families: Arc<Vec<String>>,
    app_id: AppId,
    http_networks: bool,
    creating: RwSignal<bool>,
    create: Action<EndpointInput, Answer<CreatedEndpoint>>,
) -> impl IntoView {
    crate::widgets::dialog::dialog_focus();
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let mode = RwSignal::new(KeyMode::Live);
    let chosen = RwSignal::new(Vec::<String>::new());
    let rate = RwSignal::new(String::new());
    let rate_error = RwSignal::new(None::<String>);
    let errors = FieldErrors::of(create);
    let form_element = NodeRef::<leptos::html::Form>::new();
    errors.focus_first_in(form_element);
    let server_rate_error = errors.field("rate_limit_per_second");
    let live_hint = if http_networks {
        "Live events. Use https://; plain http:// is accepted only for addresses in the networks this Gatehouse's operator allowed."
    } else {
        "Live events. The URL must use https://."
    };
    let close = move || creating.set(false);
    // Escape on a form with something typed or chosen asks first; a second one discards.
    let entered = move || {
        !url.get_untracked().trim().is_empty()
            || !description.get_untracked().trim().is_empty()
            || !rate.get_untracked().trim().is_empty()
            || !chosen.with_untracked(Vec::is_empty)
    };
    let asked_to_discard = RwSignal::new(false);
    let escape = move || {
        if entered() && !asked_to_discard.get_untracked() {
            asked_to_discard.set(true);
        } else {
            close();
        }
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let rate_limit_per_second = match typed_rate(&rate.get_untracked()) {
            Ok(rate) => rate,
            Err(message) => {
                rate_error.set(Some(message));
                return;
            }
        };
        rate_error.set(None);
        create.dispatch(EndpointInput {
            app_id: Some(app_id.clone()),
            url: url.get_untracked(),
            description: description.get_untracked(),
            mode: mode.get_untracked(),
            event_families: chosen.get_untracked(),
            rate_limit_per_second,
        });
    };
    let radio = move |id: &'static str, label: &'static str, hint: &'static str, value: KeyMode| {
        view! {
            <div class="choice">
                <input type="radio" name="mode" id=id prop:checked=move || mode.get() == value
                    on:change=move |_| mode.set(value) />
                <label for=id>{label}</label>
                <span class="muted small">{hint}</span>
            </div>
        }
    };
    view! {
        <div class="modal-backdrop">
            <div class="modal card" role="dialog" aria-modal="true" aria-labelledby="create-endpoint-title"
                data-testid="create-endpoint-dialog" on:keydown=dialog_keys(escape)>
                <form node_ref=form_element on:submit=on_submit novalidate>
                    <h2 id="create-endpoint-title">"Add webhook endpoint"</h2>
                    <label for="endpoint-url">"Endpoint URL"</label>
                    <input id="endpoint-url" name="url" type="url" bind:value=url required autofocus
                        placeholder="https://example.com/webhooks" />
                    <p class="field-error" data-field="url">{errors.field("url")}</p>
                    <label for="endpoint-description">"Description"</label>
                    <textarea id="endpoint-description" name="description" rows="2" bind:value=description
                        placeholder="What receives these events (optional)"></textarea>
                    <p class="field-error" data-field="description">{errors.field("description")}</p>
                    <fieldset class="choices">
                        <legend>"Mode"</legend>
                        {radio("endpoint-mode-live", "Live", live_hint, KeyMode::Live)}
                        {radio("endpoint-mode-test", "Test", "Test-mode events only.", KeyMode::Test)}
                        <p class="field-error" data-field="mode">{errors.field("mode")}</p>
                    </fieldset>
                    <FamilyPicker families chosen id_prefix="create" error=errors.field("event_families") />
                    <label for="endpoint-rate">"Rate limit (deliveries per second, optional)"</label>
                    <input id="endpoint-rate" name="rate_limit_per_second" type="number" min="1" step="1"
                        bind:value=rate />
                    <p class="field-error" data-field="rate_limit_per_second">
                        {move || rate_error.get().or_else(|| server_rate_error.get())}
                    </p>
                    <p class="error" role="alert">{move || errors.general()}</p>
                    <p class="error" role="alert" data-testid="discard-warning">
                        {move || asked_to_discard.get().then_some("Discard what you entered? Press Escape again to discard it, or Cancel.")}
                    </p>
                    <div class="form-actions">
                        <button type="submit" disabled=move || create.pending().get()>"Add endpoint"</button>
                        <button type="button" class="secondary" on:click=move |_| close()>"Cancel"</button>
                    </div>
                </form>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_rates_read_as_the_user_meant() {
        assert_eq!(families_label(&["*".to_owned()]), "All events");
        assert_eq!(
            families_label(&["api_key.*".to_owned(), "invoice.*".to_owned()]),
            "api_key.*, invoice.*"
        );
        assert_eq!(typed_rate(" "), Ok(None));
        assert_eq!(typed_rate("20"), Ok(Some(20)));
        assert!(typed_rate("2.5").is_err());
    }

    #[test]
    fn an_endpoint_is_offered_the_examples_of_its_families() {
        let examples = ["invoice.paid".to_owned(), "payout.paid".to_owned()];
        assert_eq!(receivable_types(&examples, &["*".to_owned()]), examples);
        assert_eq!(
            receivable_types(&examples, &["payout.*".to_owned()]),
            ["payout.paid"]
        );
        assert!(receivable_types(&examples, &["import.*".to_owned()]).is_empty());
    }
}
