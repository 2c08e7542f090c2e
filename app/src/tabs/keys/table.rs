//! The API keys list: one table row per key of the selected app, with its scopes, mode,
//! status, dates and the last day's requests, and a button that opens the key's detail.

use std::sync::Arc;

use gatehouse_model::{ApiKeyListItem, KeyStatus};
use leptos::prelude::*;

use super::state::{Detail, KeyActions, expiry_text, last_used_text, scopes_label};
use crate::widgets::ui::format_day;
use crate::widgets::ui::format_time;

/// The list's scopes cell: each scope as code, or "Full access" (secret and legacy keys).
fn scope_chips(scopes: Option<&[String]>) -> AnyView {
    match scopes {
        Some(scopes) if !scopes.is_empty() => scopes
            .iter()
            .enumerate()
            .map(|(index, scope)| {
                view! { {(index > 0).then_some(", ")}<code class="scope">{scope.clone()}</code> }
            })
            .collect_view()
            .into_any(),
        _ => scopes_label(scopes).into_any(),
    }
}

#[component]
pub(super) fn KeysTable(
    keys: Arc<Vec<ApiKeyListItem>>,
    actions: KeyActions,
    detail: Detail,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let rows = keys
        .iter()
        .map(|item| {
            let key = item.key.clone();
            let status = key.status.as_str();
            let for_manage = key.clone();
            view! {
                <tr data-testid="key-row" data-key-id=key.id.to_string() class:revoked={key.status == KeyStatus::Revoked}>
                    <td data-label="Name" class="name">
                        <strong data-testid="key-name">{key.name.clone()}</strong>
                        <div><code data-testid="key-prefix">{key.masked_key.clone()}</code></div>
                        {(!key.description.is_empty()).then(|| view! { <div class="muted small">{key.description.clone()}</div> })}
                    </td>
                    <td class="scopes" data-label="Scopes" data-testid="key-scopes">{scope_chips(key.scopes.as_deref())}</td>
                    <td data-label="Status">
                        <span data-testid="key-status" class=format!("status status-{status}")>{status}</span>
                        <span data-testid="key-mode" class=format!("badge mode-{}", key.mode.as_str())>{key.mode.as_str()}</span>
                        {item.previous_secret_until.as_ref().map(|until| view! {
                            <div class="muted small" data-testid="previous-secret" title=format_time(until)>
                                "Previous secret works until " {format_time(until)}
                            </div>
                        })}
                    </td>
                    <td class="time" data-label="Created" title=format_time(&key.created_at)>
                        <div data-testid="key-created">{format_day(&key.created_at)}</div>
                        <div class="muted small">"by " <span data-testid="key-creator">{key.created_by.clone()}</span></div>
                    </td>
                    <td class="time" data-label="Last used" data-testid="key-last-used" title=last_used_text(&key)>
                        {key.last_used_at.as_ref().map_or_else(|| "Never".to_owned(), format_day)}
                    </td>
                    <td class="time" data-label="Expires" data-testid="key-expires" title=expiry_text(&key)>
                        {key.expires_at.as_ref().map_or_else(|| "Never".to_owned(), format_day)}
                        {item.expiring_soon.then(|| view! { <span class="flag expiring" data-testid="expires-soon">"Expires soon"</span> })}
                    </td>
                    <td data-label="Last 24 h" data-testid="key-usage" class="usage">
                        <div><span data-testid="key-successes">{item.successes_24h}</span> " ok"</div>
                        <div><span data-testid="key-failures" class:has-failures={item.failures_24h > 0}>{item.failures_24h}</span> " failed"</div>
                    </td>
                    <td class="actions">
                        <button type="button" class="secondary" data-testid="manage-key"
                            aria-label=format!("Manage {}", key.name)
                            on:click=move |_| {
                                notice.set(None);
                                detail.open(&for_manage, actions);
                            }>"Manage"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="data-table keys-table rows-on-phone" data-testid="keys-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Scopes"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Last 24 h"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
