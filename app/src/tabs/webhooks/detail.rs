//! One endpoint's detail: its settings (editable), "Send test event" with the result
//! in place, the delivery log with a message view and replay per event and bulk replay
//! of failures, secret rotation, disable or enable, and delete after confirming.

use std::sync::Arc;

use gatehouse_model::{
    AttemptView, EndpointListItem, EndpointStatus, EndpointUpdate, EventId, WebhookEndpointId,
};
use leptos::prelude::*;

use super::message::MessageView;
use super::{FamilyPicker, TabState, attempt_result, families_label, receivable_types, typed_rate};
use crate::server_fns::{
    delete_webhook_endpoint, load_delivery_attempts, replay_webhooks, rotate_webhook_secret,
    send_test_webhook, set_webhook_endpoint_enabled, update_webhook_endpoint,
};
use crate::widgets::dialog::dialog_keys;
use crate::widgets::field_errors::FieldErrors;
use crate::widgets::one_time_secret::OneTimeSecret;
use crate::widgets::ui::{failed_load, format_time, mode_label};

/// Bulk replay windows: (value in hours, label).
const REPLAY_WINDOWS: &[(i64, &str)] = &[
    (1, "the last hour"),
    (24, "the last 24 hours"),
    (168, "the last 7 days"),
];

#[component]
pub(super) fn EndpointDetail(
    item: EndpointListItem,
    families: Arc<Vec<String>>,
    example_types: Arc<Vec<String>>,
    state: TabState,
) -> impl IntoView {
    crate::widgets::dialog::dialog_focus();
    let endpoint = item.endpoint;
    let id = endpoint.id.clone();
    let close = move || state.managing.set(None);
    // The message opened from the delivery log; Escape closes it before the dialog.
    let viewing = RwSignal::new(None::<EventId>);
    let escape = move || {
        if viewing.get_untracked().is_some() {
            viewing.set(None);
        } else {
            close();
        }
    };
    let error = RwSignal::new(None::<String>);

    // Edit form.
    let url = RwSignal::new(endpoint.url.clone());
    let description = RwSignal::new(endpoint.description.clone());
    let chosen = RwSignal::new(endpoint.event_families.clone());
    let rate = RwSignal::new(
        endpoint
            .rate_limit_per_second
            .map(|rate| rate.to_string())
            .unwrap_or_default(),
    );
    let rate_error = RwSignal::new(None::<String>);
    let save = Action::new(|(id, update): &(WebhookEndpointId, EndpointUpdate)| {
        let (id, update) = (id.clone(), update.clone());
        async move { update_webhook_endpoint(id, update).await }
    });
    let errors = FieldErrors::of(save);
    let server_rate_error = errors.field("rate_limit_per_second");
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            save.value().set(None);
            state
                .notice
                .set(Some(format!("Saved changes to {}.", saved.url)));
            state.reload();
        }
    });
    let on_save = {
        let id = id.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let rate_limit = match typed_rate(&rate.get_untracked()) {
                Ok(rate) => rate,
                Err(message) => {
                    rate_error.set(Some(message));
                    return;
                }
            };
            rate_error.set(None);
            save.dispatch((
                id.clone(),
                EndpointUpdate {
                    url: Some(url.get_untracked()),
                    description: Some(description.get_untracked()),
                    event_families: Some(chosen.get_untracked()),
                    rate_limit_per_second: Some(rate_limit),
                },
            ));
        }
    };

    // Test event, `webhook.test` or an example of a type it receives: the attempt shows
    // in place.
    let test_types = receivable_types(&example_types, &endpoint.event_families);
    let test_type = RwSignal::new(String::new());
    let test = Action::new(|(id, event_type): &(WebhookEndpointId, Option<String>)| {
        let (id, event_type) = (id.clone(), event_type.clone());
        async move { send_test_webhook(id, event_type).await }
    });
    let log_version = RwSignal::new(0u32);
    // What the facts say of the last success follows the test's answer.
    let last_success = RwSignal::new(endpoint.last_success_at);
    Effect::new(move |_| {
        if let Some(Ok(attempt)) = test.value().get() {
            log_version.update(|value| *value += 1);
            if attempt.succeeded {
                last_success.set(Some(attempt.attempted_at));
            }
        }
    });
    let test_result = move || {
        test.value().get().map(|answer| match answer {
            Ok(attempt) if attempt.succeeded => view! {
                <p class="notice success" role="status" data-testid="test-result">
                    {format!("Delivered {}: HTTP {} in {} ms.", attempt.event_type, attempt.http_status.unwrap_or_default(), attempt.latency_ms)}
                </p>
            }.into_any(),
            Ok(attempt) => view! {
                <p class="error" role="alert" data-testid="test-result">
                    {format!("Failed: {}.", attempt.error.unwrap_or_else(|| "no answer".to_owned()))}
                </p>
            }.into_any(),
            Err(error) => view! { <p class="error" role="alert" data-testid="test-result">{error.to_string()}</p> }.into_any(),
        })
    };

    // Rotate, enable/disable, delete.
    let rotate = Action::new(|id: &WebhookEndpointId| {
        let id = id.clone();
        async move { rotate_webhook_secret(id).await }
    });
    Effect::new(move |_| match rotate.value().get() {
        Some(Ok(created)) => {
            rotate.value().set(None);
            state.managing.set(None);
            state.notice.set(Some(format!(
                "Rotated the signing secret of {}.",
                created.endpoint.url
            )));
            state.secret.set(Some(OneTimeSecret::signing_secret(
                created,
                Some("The previous secret keeps signing for 24 hours: deliveries carry both signatures meanwhile."),
            )));
            state.reload();
        }
        Some(Err(failure)) => error.set(Some(failure.to_string())),
        None => {}
    });
    let set_enabled = Action::new(|(id, enabled): &(WebhookEndpointId, bool)| {
        let (id, enabled) = (id.clone(), *enabled);
        async move { set_webhook_endpoint_enabled(id, enabled).await }
    });
    Effect::new(move |_| match set_enabled.value().get() {
        Some(Ok(endpoint)) => {
            set_enabled.value().set(None);
            state.notice.set(Some(format!(
                "{} is now {}.",
                endpoint.url,
                endpoint.status.as_str()
            )));
            state.reload();
        }
        Some(Err(failure)) => error.set(Some(failure.to_string())),
        None => {}
    });
    let confirming_delete = RwSignal::new(false);
    let delete = Action::new(|id: &WebhookEndpointId| {
        let id = id.clone();
        async move { delete_webhook_endpoint(id).await }
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(endpoint)) => {
            delete.value().set(None);
            state.managing.set(None);
            state.notice.set(Some(format!("Deleted {}.", endpoint.url)));
            state.reload();
        }
        Some(Err(failure)) => {
            confirming_delete.set(false);
            error.set(Some(failure.to_string()));
        }
        None => {}
    });

    // Replays.
    let replay = Action::new(
        |(id, event_id, hours): &(WebhookEndpointId, Option<EventId>, Option<i64>)| {
            let (id, event_id, hours) = (id.clone(), event_id.clone(), *hours);
            async move { replay_webhooks(id, event_id, hours).await }
        },
    );
    let replay_window = RwSignal::new(24i64);
    let replay_result = move || {
        replay.value().get().map(|answer| match answer {
            Ok(outcome) => view! {
                <p class="notice" role="status" data-testid="replay-result">
                    {match outcome.queued {
                        0 => "Nothing to replay: no failed deliveries in that window.".to_owned(),
                        1 => "1 event queued for delivery.".to_owned(),
                        n => format!("{n} events queued for delivery."),
                    }}
                </p>
            }
            .into_any(),
            Err(failure) => {
                view! { <p class="error" role="alert">{failure.to_string()}</p> }.into_any()
            }
        })
    };
    Effect::new(move |_| {
        if let Some(Ok(_)) = replay.value().get() {
            log_version.update(|value| *value += 1);
        }
    });
    let bulk_replay = {
        let id = id.clone();
        move |_| {
            replay.dispatch((id.clone(), None, Some(replay_window.get_untracked())));
        }
    };
    let replay_one = {
        let id = id.clone();
        Callback::new(move |event_id: EventId| {
            replay.dispatch((id.clone(), Some(event_id), None));
        })
    };

    let enabled = endpoint.status == EndpointStatus::Enabled;
    let (id_test, id_rotate, id_toggle, id_delete) =
        (id.clone(), id.clone(), id.clone(), id.clone());
    view! {
        <div class="modal-backdrop">
            <div class="modal card wide" role="dialog" aria-modal="true" aria-labelledby="endpoint-title"
                data-testid="endpoint-detail" data-endpoint-id=id.to_string() on:keydown=dialog_keys(escape)>
                <h2 id="endpoint-title"><code class="url">{endpoint.url.clone()}</code></h2>
                <dl class="facts">
                    <dt>"Mode"</dt><dd>{mode_label(endpoint.mode)}</dd>
                    <dt>"Events"</dt><dd>{families_label(&endpoint.event_families)}</dd>
                    <dt>"Status"</dt><dd data-testid="endpoint-status">{endpoint.status.as_str()}
                        {endpoint.disabled_reason.map(|reason| format!(" ({})", reason.as_str()))}</dd>
                    <dt>"Signing secret"</dt><dd><code>{endpoint.masked_secret.clone()}</code></dd>
                    <dt>"Last success"</dt><dd data-testid="last-success">{move || last_success.get().as_ref().map(format_time).unwrap_or_else(|| "Never".to_owned())}</dd>
                    <dt>"Created"</dt><dd>{format_time(&endpoint.created_at)} " by " {endpoint.created_by.clone()}</dd>
                </dl>
                <div class="inline-form test-event">
                    <label for="test-event-type">"Test event"</label>
                    <select id="test-event-type" data-testid="test-event-type"
                        on:change=move |event| test_type.set(event_target_value(&event))>
                        <option value="" selected>"webhook.test"</option>
                        {test_types.into_iter().map(|event_type| view! {
                            <option value=event_type.clone()>{event_type.clone()}" (example)"</option>
                        }).collect_view()}
                    </select>
                    <button type="button" data-testid="send-test-event" disabled=move || test.pending().get()
                        on:click=move |_| {
                            let chosen = test_type.get_untracked();
                            test.dispatch((id_test.clone(), (!chosen.is_empty()).then_some(chosen)));
                        }>
                        {move || if test.pending().get() { "Sending…" } else { "Send test event" }}
                    </button>
                </div>
                <div class="form-actions">
                    <button type="button" class="secondary" data-testid="rotate-secret"
                        on:click=move |_| { rotate.dispatch(id_rotate.clone()); }>"Rotate secret"</button>
                    <button type="button" class="secondary" data-testid="toggle-endpoint"
                        on:click=move |_| { set_enabled.dispatch((id_toggle.clone(), !enabled)); }>
                        {if enabled { "Disable" } else { "Enable" }}
                    </button>
                    <button type="button" class="danger" data-testid="delete-endpoint"
                        on:click=move |_| confirming_delete.set(true)>"Delete"</button>
                </div>
                {test_result}
                <p class="error" role="alert">{move || error.get()}</p>
                {move || confirming_delete.get().then(|| {
                    let id = id_delete.clone();
                    view! {
                        <div class="confirm" role="alertdialog" aria-labelledby="confirm-delete-text" data-testid="confirm-delete">
                            <p id="confirm-delete-text">"Delete this endpoint? It stops receiving events at once, and its delivery log is deleted with it."</p>
                            <button type="button" class="danger" data-testid="confirm-delete-endpoint"
                                on:click=move |_| { delete.dispatch(id.clone()); }>"Delete endpoint"</button>
                            <button type="button" class="secondary" on:click=move |_| confirming_delete.set(false)>"Cancel"</button>
                        </div>
                    }
                })}

                <h3>"Delivery log"</h3>
                <div class="inline-form">
                    <label for="replay-window">"Replay failed events from"</label>
                    <select id="replay-window" on:change=move |event| {
                        replay_window.set(event_target_value(&event).parse().unwrap_or(24));
                    }>
                        {REPLAY_WINDOWS.iter().map(|(hours, label)| view! {
                            <option value=hours.to_string() prop:selected=move || replay_window.get() == *hours>{*label}</option>
                        }).collect_view()}
                    </select>
                    <button type="button" class="secondary" data-testid="bulk-replay" on:click=bulk_replay>"Replay failed"</button>
                </div>
                {replay_result}
                {
                    let id = id.clone();
                    move || viewing.get().map(|event_id| view! {
                        <MessageView endpoint_id=id.clone() event_id close=Callback::new(move |()| viewing.set(None)) />
                    })
                }
                <DeliveryLog endpoint_id=id.clone() version=log_version replay_one
                    view_one=Callback::new(move |event_id| viewing.set(Some(event_id))) />

                <h3>"Edit endpoint"</h3>
                <form on:submit=on_save novalidate data-testid="edit-endpoint">
                    <label for="edit-endpoint-url">"Endpoint URL"</label>
                    <input id="edit-endpoint-url" type="url" bind:value=url />
                    <p class="field-error" data-field="url">{errors.field("url")}</p>
                    <label for="edit-endpoint-description">"Description"</label>
                    <textarea id="edit-endpoint-description" rows="2" bind:value=description></textarea>
                    <p class="field-error" data-field="description">{errors.field("description")}</p>
                    <FamilyPicker families chosen id_prefix="edit" error=errors.field("event_families") />
                    <label for="edit-endpoint-rate">"Rate limit (deliveries per second, optional)"</label>
                    <input id="edit-endpoint-rate" type="number" min="1" step="1" bind:value=rate />
                    <p class="field-error" data-field="rate_limit_per_second">
                        {move || rate_error.get().or_else(|| server_rate_error.get())}
                    </p>
                    <div class="form-actions">
                        <button type="submit" disabled=move || save.pending().get()>"Save changes"</button>
                        <button type="button" class="secondary" on:click=move |_| close()>"Close"</button>
                    </div>
                </form>
            </div>
        </div>
    }
}

/// The endpoint's attempts, newest first, 20 at a time with "Load more".
#[component]
fn DeliveryLog(
    endpoint_id: WebhookEndpointId,
    version: RwSignal<u32>,
    replay_one: Callback<EventId>,
    view_one: Callback<EventId>,
) -> impl IntoView {
    let shown = RwSignal::new(Vec::<AttemptView>::new());
    let next_cursor = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<String>);
    let load = Action::new(|(id, cursor): &(WebhookEndpointId, Option<String>)| {
        let (id, cursor) = (id.clone(), cursor.clone());
        async move { (cursor.is_some(), load_delivery_attempts(id, cursor).await) }
    });
    Effect::new(move |_| match load.value().get() {
        Some((more, Ok(page))) => {
            if more {
                shown.update(|shown| shown.extend(page.data));
            } else {
                shown.set(page.data);
            }
            next_cursor.set(page.next_cursor);
            failure.set(None);
        }
        Some((_, Err(error))) => failure.set(Some(error.to_string())),
        None => {}
    });
    // What was asked last, to ask again after a failure.
    let last_asked = StoredValue::new((endpoint_id.clone(), None::<String>));
    let ask = move |asked: (WebhookEndpointId, Option<String>)| {
        last_asked.set_value(asked.clone());
        load.dispatch(asked);
    };
    {
        let endpoint_id = endpoint_id.clone();
        Effect::new(move |_| {
            version.get();
            ask((endpoint_id.clone(), None));
        });
    }
    let load_more = move |_| {
        if let Some(cursor) = next_cursor.get_untracked() {
            ask((endpoint_id.clone(), Some(cursor)));
        }
    };
    view! {
        {failed_load(move || failure.get(), move || ask(last_asked.get_value()))}
        {move || if shown.with(Vec::is_empty) {
            view! { <p class="muted" data-testid="log-empty">"No deliveries yet. Send a test event to try the endpoint."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table class="data-table rows-on-phone" data-testid="delivery-log">
                        <caption class="visually-hidden">"Delivery attempts, newest first"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Time"</th>
                                <th scope="col">"Event"</th>
                                <th scope="col">"Result"</th>
                                <th scope="col">"Latency"</th>
                                <th scope="col">"Response"</th>
                                <th scope="col">"Next retry"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {shown.get().into_iter().map(|attempt| {
                                let event_id = attempt.event_id.clone();
                                let shown_event_id = attempt.event_id.clone();
                                let result = attempt_result(&attempt);
                                view! {
                                    <tr data-testid="attempt-row" data-event-id=attempt.event_id.to_string()
                                        data-outcome=if attempt.succeeded { "succeeded" } else { "failed" }>
                                        <td data-label="Time">{format_time(&attempt.attempted_at)}</td>
                                        <td data-label="Event"><code>{attempt.event_type.clone()}</code><div class="muted small">{attempt.event_id.to_string()}</div></td>
                                        <td data-label="Result">{result}</td>
                                        <td data-label="Latency">{format!("{} ms", attempt.latency_ms)}</td>
                                        <td data-label="Response"><code class="excerpt">{attempt.response_excerpt.clone()}</code></td>
                                        <td data-label="Next retry">{attempt.next_retry_at.as_ref().map(format_time).unwrap_or_else(|| "—".to_owned())}</td>
                                        <td class="actions">
                                            <button type="button" class="secondary" data-testid="view-message"
                                                on:click=move |_| view_one.run(shown_event_id.clone())>"View"</button>
                                            <button type="button" class="secondary" data-testid="replay-event"
                                                on:click=move |_| replay_one.run(event_id.clone())>"Replay"</button>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        {move || next_cursor.get().is_some().then(|| view! {
            <button type="button" class="secondary" on:click=load_more.clone()>"Load more"</button>
        })}
    }
}
