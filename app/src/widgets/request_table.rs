//! Recorded requests in a table (the Logs page, a key's detail): time, method and
//! route, status with its error or verification code, key and latency, each opening to
//! everything that was recorded of it.

use gatehouse_model::{RequestId, RequestLogView};
use leptos::prelude::*;

use crate::widgets::copy::{CopyButton, CopyState};
use crate::widgets::search::details_toggle;
use crate::widgets::ui::{format_time, mode_label};

/// A latency in microseconds as people read it: `840 µs`, `12.4 ms`, `1.20 s`.
pub fn latency_text(latency_us: i64) -> String {
    match latency_us {
        ..1_000 => format!("{latency_us} µs"),
        1_000..1_000_000 => format!("{:.1} ms", latency_us as f64 / 1_000.0),
        _ => format!("{:.2} s", latency_us as f64 / 1_000_000.0),
    }
}

/// The class of `status`'s badge: good below 400, bad from 500, a warning between.
pub fn status_class(status: u16) -> &'static str {
    match status {
        ..400 => "status status-enabled",
        400..500 => "status status-expired",
        _ => "status status-revoked",
    }
}

/// Requests in a table, each opening to its detail; shared by the Logs page and a
/// key's detail (whose requests are all the key's own: no Key column there).
#[component]
pub fn RequestTable(
    requests: Signal<Vec<RequestLogView>>,
    open: RwSignal<Option<RequestId>>,
    test_id: &'static str,
    caption: &'static str,
    #[prop(optional)] one_key: bool,
) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="data-table rows-on-phone" data-testid=test_id>
                <caption class="visually-hidden">{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Request"</th>
                        <th scope="col">"Status"</th>
                        {(!one_key).then(|| view! { <th scope="col">"Key"</th> })}
                        <th scope="col">"Latency"</th>
                        <th scope="col"><span class="visually-hidden">"Details"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {move || requests.get().into_iter().map(|request| view! { <RequestRow request open one_key /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// One request's line, and beneath it, when open, everything recorded of it.
#[component]
fn RequestRow(
    request: RequestLogView,
    open: RwSignal<Option<RequestId>>,
    one_key: bool,
) -> impl IntoView {
    let detail_id = format!("request-detail-{}", request.id);
    let (is_open, details_button) = details_toggle(open, request.id.clone(), detail_id.clone());
    let outcome = request
        .verify_code
        .clone()
        .or_else(|| request.error_code.clone());
    let key_name = request
        .key_name
        .clone()
        .unwrap_or_else(|| "A deleted key".to_owned());
    // The key's detail on the API keys tab (Logs show the selected app's keys only).
    let key_link = format!("/settings/developers/api-keys?key={}", request.key_id);
    let copied = RwSignal::new(CopyState::Idle);
    let facts: Vec<(&'static str, String)> = [
        ("Time", Some(format_time(&request.occurred_at))),
        ("Key", Some(format!("{key_name} ({})", request.key_id))),
        ("Mode", Some(mode_label(request.mode).to_owned())),
        ("Method", Some(request.method.clone())),
        ("Route", Some(request.route.clone())),
        ("Status", Some(request.status.to_string())),
        ("Error code", request.error_code.clone()),
        ("Verification", request.verify_code.clone()),
        ("Latency", Some(latency_text(request.latency_us))),
        ("Origin", request.origin.clone()),
        ("Client address", request.client_ip.clone()),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|value| (name, value)))
    .collect();
    view! {
        <tr data-testid="request-row" data-request-id=request.id.to_string() data-status=request.status.to_string()>
            <td class="time" data-label="Time">{format_time(&request.occurred_at)}</td>
            <td data-label="Request"><code>{format!("{} {}", request.method, request.route)}</code></td>
            <td data-label="Status"><span class=status_class(request.status)>{request.status}</span>
                {outcome.map(|code| view! { <div class="muted small"><code>{code}</code></div> })}</td>
            {(!one_key).then(|| view! {
                <td data-label="Key" title=request.key_id.to_string()>
                    <a href=key_link.clone() data-testid="request-key">{key_name.clone()}</a>
                </td>
            })}
            <td data-label="Latency">{latency_text(request.latency_us)}</td>
            <td class="actions">{details_button}</td>
        </tr>
        {move || is_open.get().then(|| view! {
            <tr class="audit-detail" id=detail_id.clone() data-testid="request-detail">
                <td colspan=if one_key { "5" } else { "6" }>
                    <dl class="facts">
                        <dt>"Request id"</dt>
                        <dd class="with-copy"><code data-testid="request-id">{request.id.to_string()}</code>
                            <CopyButton text=request.id.to_string() state=copied what="the request id"
                                label="Copy the request id" /></dd>
                        {facts.iter().map(|(name, value)| view! {
                            <dt>{*name}</dt><dd><code>{value.clone()}</code></dd>
                        }).collect_view()}
                    </dl>
                    <p class="muted small">"Keys, tokens and bodies are never recorded."</p>
                </td>
            </tr>
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_read_in_their_unit() {
        assert_eq!(latency_text(840), "840 µs");
        assert_eq!(latency_text(12_400), "12.4 ms");
        assert_eq!(latency_text(1_204_000), "1.20 s");
    }

    #[test]
    fn statuses_are_coloured_by_class() {
        assert_eq!(status_class(200), "status status-enabled");
        assert_eq!(status_class(429), "status status-expired");
        assert_eq!(status_class(503), "status status-revoked");
    }
}
