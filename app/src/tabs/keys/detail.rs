//! A key's detail dialog: its facts, activity chart, history and recent requests, and
//! the actions on it: edit, enable or disable, revoke (after a confirmation), rotate and
//! duplicate.

use std::sync::Arc;

use gatehouse_model::{
    ApiKeyListItem, ApiKeyUpdate, KeyStatus, KeyType, RotationOverlap, ScopeCatalog,
};
use leptos::prelude::*;

use super::activity::KeyActivity;
use super::rate_limit::{RateLimitField, rate_limit_text};
use super::scope_picker::ScopePicker;
use super::state::{
    Detail, KeyActions, dialog_keys, expiry_text, last_used_text, merge_scopes, mode_label,
    scopes_label, type_label,
};
use crate::server_fns::{KEY_RECENT_REQUESTS, load_key_requests};
use crate::widgets::field_errors::FieldErrors;
use crate::widgets::request_table::RequestTable;
use crate::widgets::ui::{format_time, show_error};

/// The overlap choices of a rotation: (value, label, overlap).
const OVERLAP_CHOICES: &[(&str, &str, RotationOverlap)] = &[
    ("now", "Now", RotationOverlap::Now),
    ("1h", "In 1 hour", RotationOverlap::OneHour),
    ("24h", "In 24 hours", RotationOverlap::OneDay),
    ("7d", "In 7 days", RotationOverlap::SevenDays),
];

/// A key's detail: id, history, edit, status, rotate, duplicate.
#[component]
pub(super) fn KeyDetail(
    item: ApiKeyListItem,
    catalog: Arc<ScopeCatalog>,
    actions: KeyActions,
    detail: Detail,
) -> impl IntoView {
    crate::widgets::dialog::dialog_focus();
    let key = item.key;
    let revoked = key.status == KeyStatus::Revoked;
    let restricted = key.key_type == KeyType::Restricted;
    let status = key.status.as_str();
    let every_scope: Vec<String> = catalog
        .areas
        .iter()
        .flat_map(|area| area.scopes())
        .collect();
    let close = move || detail.close();
    // Escape closes the confirmation over the detail first, wherever focus is.
    let escape = move || {
        if detail.confirming_revoke.get_untracked() {
            detail.confirming_revoke.set(false);
        } else {
            detail.close();
        }
    };
    let busy = move || actions.busy();

    let errors = FieldErrors::of(actions.update);
    let on_save = {
        let key_id = key.id.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            detail.error.set(None);
            let Ok(rate_limit) = detail.edit.rate_limit.chosen() else {
                return;
            };
            let scopes = restricted.then(|| {
                merge_scopes(
                    &every_scope,
                    &detail.edit.ticked.get_untracked(),
                    &detail.edit.typed.get_untracked(),
                )
            });
            actions.update.dispatch((
                key_id.clone(),
                ApiKeyUpdate {
                    name: Some(detail.edit.name.get_untracked()),
                    description: Some(detail.edit.description.get_untracked()),
                    scopes,
                    rate_limit: Some(rate_limit),
                },
            ));
        }
    };

    let edit_form = (!revoked).then(|| {
        let picker = restricted.then(|| {
            view! {
                <ScopePicker
                    catalog=catalog.clone()
                    ticked=detail.edit.ticked
                    typed=detail.edit.typed
                    id_prefix="edit"
                    error=errors.field("scopes")
                />
            }
        });
        view! {
            <form class="edit-key" data-testid="edit-key-form" on:submit=on_save novalidate>
                <h3>"Edit"</h3>
                <label for="edit-key-name">"Name"</label>
                <input id="edit-key-name" name="name" bind:value=detail.edit.name required />
                <p class="field-error" data-field="name">{errors.field("name")}</p>
                <label for="edit-key-description">"Description"</label>
                <textarea id="edit-key-description" name="description" bind:value=detail.edit.description rows="2"></textarea>
                <p class="field-error" data-field="description">{errors.field("description")}</p>
                {picker}
                <RateLimitField input=detail.edit.rate_limit id_prefix="edit"
                    server_error=errors.field("rate_limit") />
                <p class="error" role="alert">{move || errors.general()}</p>
                <div class="form-actions">
                    <button type="submit" disabled=busy>"Save changes"</button>
                </div>
            </form>
        }
        .into_any()
    });

    let lifecycle = (!revoked).then(|| {
        let enabled = key.status != KeyStatus::Disabled;
        let for_status = key.id.clone();
        let for_rotate = key.id.clone();
        view! {
            <section class="key-actions" aria-labelledby="key-status-title">
                <h3 id="key-status-title">"Status"</h3>
                <p class="muted small">"A disabled key is refused until you enable it again."</p>
                <div class="form-actions">
                    <button type="button" class="secondary" data-testid="toggle-key" disabled=busy
                        on:click=move |_| {
                            detail.error.set(None);
                            actions.set_enabled.dispatch((for_status.clone(), !enabled));
                        }>
                        {if enabled { "Disable key" } else { "Enable key" }}
                    </button>
                    <button type="button" class="danger" data-testid="revoke-key" disabled=busy
                        on:click=move |_| {
                            detail.error.set(None);
                            detail.confirming_revoke.set(true);
                        }>"Revoke"</button>
                </div>
            </section>
            <section class="key-actions" aria-labelledby="key-rotate-title">
                <h3 id="key-rotate-title">"Rotate secret"</h3>
                <p class="muted small">"Issues a new secret for the same key settings. It is shown once."</p>
                <label for="rotate-overlap">"Old secret expires"</label>
                <div class="form-actions">
                    <select id="rotate-overlap" name="overlap" on:change=move |event| {
                        let value = event_target_value(&event);
                        if let Some((_, _, overlap)) = OVERLAP_CHOICES.iter().find(|(choice, _, _)| *choice == value) {
                            detail.overlap.set(*overlap);
                        }
                    }>
                        {OVERLAP_CHOICES.iter().map(|(value, label, overlap)| view! {
                            <option value=*value prop:selected=move || detail.overlap.get() == *overlap>{*label}</option>
                        }).collect_view()}
                    </select>
                    <button type="button" class="secondary" data-testid="rotate-key" disabled=busy
                        on:click=move |_| {
                            detail.error.set(None);
                            actions.rotate.dispatch((for_rotate.clone(), detail.overlap.get_untracked()));
                        }>"Rotate key"</button>
                </div>
            </section>
        }
        .into_any()
    });

    let recent = {
        let key_id = key.id.clone();
        let requests = Resource::new(move || key_id.clone(), load_key_requests);
        let open = RwSignal::new(None);
        view! {
            <section aria-labelledby="key-requests-title" data-testid="key-requests">
                <h3 id="key-requests-title">"Recent requests"</h3>
                <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match requests.await {
                            Ok(shown) if shown.is_empty() => view! {
                                <p class="muted small" data-testid="key-requests-empty">"No requests with this key in the log yet."</p>
                            }.into_any(),
                            Ok(shown) => view! {
                                <p class="muted small">{format!("The latest {KEY_RECENT_REQUESTS} at most, newest first. The Logs tab has them all.")}</p>
                                <RequestTable requests=Signal::stored(shown) open test_id="key-request-rows" one_key=true
                                    caption="This key's latest requests, newest first" />
                            }.into_any(),
                            Err(error) => show_error(error, move || requests.refetch()),
                        }
                    })}
                </Suspense>
            </section>
        }
    };

    let for_duplicate = key.id.clone();
    let confirm = {
        let key_id = key.id.clone();
        let key_name = key.name.clone();
        move || {
            detail.confirming_revoke.get().then(|| {
                view! { <RevokeConfirm key_id=key_id.clone() key_name=key_name.clone() actions detail /> }
            })
        }
    };

    view! {
        <div class="modal-backdrop">
            <div class="modal card key-detail" role="dialog" aria-modal="true" aria-labelledby="key-detail-title"
                data-testid="key-detail" data-key-id=key.id.to_string() on:keydown=dialog_keys(escape)>
                <div class="modal-header">
                    <h2 id="key-detail-title">{key.name.clone()}</h2>
                    <span class=format!("status status-{status}") data-testid="key-detail-status">{status}</span>
                </div>
                <dl class="facts">
                    <dt>"Key ID"</dt><dd><code data-testid="key-detail-id">{key.id.to_string()}</code></dd>
                    <dt>"Key"</dt><dd><code>{key.masked_key.clone()}</code></dd>
                    <dt>"Type"</dt><dd>{type_label(key.key_type)}</dd>
                    <dt>"Mode"</dt><dd>{mode_label(key.mode)}</dd>
                    <dt>"Scopes"</dt><dd data-testid="key-detail-scopes">{scopes_label(key.scopes.as_deref())}</dd>
                    <dt>"Expires"</dt><dd>{expiry_text(&key)}</dd>
                    <dt>"Rate limit"</dt><dd data-testid="key-detail-rate-limit">{rate_limit_text(key.rate_limit)}</dd>
                    <dt>"Last used"</dt><dd>{last_used_text(&key)}</dd>
                </dl>
                <KeyActivity key_id=key.id.clone() />
                <section aria-labelledby="key-history-title">
                    <h3 id="key-history-title">"History"</h3>
                    <ul class="history" data-testid="key-history">
                        <li>"Created by " {key.created_by.clone()} " on " {format_time(&key.created_at)}</li>
                        <li>"Last changed by " {key.updated_by.clone()} " on " {format_time(&key.updated_at)}</li>
                    </ul>
                </section>
                {recent}
                {revoked.then(|| view! {
                    <p class="muted" data-testid="revoked-note">"This key is revoked. Revocation is permanent; duplicate it to issue a new key with the same settings."</p>
                })}
                {edit_form}
                {lifecycle}
                <section class="key-actions" aria-labelledby="key-duplicate-title">
                    <h3 id="key-duplicate-title">"Duplicate"</h3>
                    <p class="muted small">"A new key with the same app, mode, type, scopes and expiry length, and its own secret."</p>
                    <button type="button" class="secondary" data-testid="duplicate-key" disabled=busy
                        on:click=move |_| {
                            detail.error.set(None);
                            actions.duplicate.dispatch(for_duplicate.clone());
                        }>"Duplicate key"</button>
                </section>
                <p class="error" role="alert" data-testid="key-detail-error">{move || detail.error.get()}</p>
                <div class="form-actions end">
                    <button type="button" class="secondary" on:click=move |_| close()>"Close"</button>
                </div>
            </div>
        </div>
        {confirm}
    }
    .into_any()
}

/// "Revoke …?": the confirmation over a key's detail. Focus moves into it and, when it
/// closes, back to the detail's "Revoke"; Escape closes only the confirmation.
#[component]
fn RevokeConfirm(
    key_id: gatehouse_model::ApiKeyId,
    key_name: String,
    actions: KeyActions,
    detail: Detail,
) -> impl IntoView {
    crate::widgets::dialog::dialog_focus();
    let busy = move || actions.busy();
    view! {
        <div class="modal-backdrop confirm">
            <div class="modal card" role="alertdialog" aria-modal="true" aria-labelledby="revoke-title"
                aria-describedby="revoke-text" data-testid="revoke-dialog"
                on:keydown=dialog_keys(move || detail.confirming_revoke.set(false))>
                <h2 id="revoke-title">"Revoke " {key_name} "?"</h2>
                <p id="revoke-text">"Revocation is permanent and cannot be undone. The key stops working from the very next request and stays in the list as revoked. Create a new key if a service needs to reconnect."</p>
                <div class="form-actions">
                    <button type="button" class="danger" disabled=busy
                        on:click=move |_| { actions.revoke.dispatch(key_id.clone()); }>"Revoke key"</button>
                    <button type="button" class="secondary" autofocus
                        on:click=move |_| detail.confirming_revoke.set(false)>"Cancel"</button>
                </div>
            </div>
        </div>
    }
}
