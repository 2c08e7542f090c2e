//! The Integration logs tab: the latest audit events, newest first, a page at a time.

use leptos::prelude::*;

use crate::server_fns::load_integration_logs;
use crate::widgets::ui::{format_time, show_error};

/// Events a page of the Integration logs shows.
const LOGS_PER_PAGE: usize = 5;

#[component]
pub fn IntegrationLogsTab() -> impl IntoView {
    let events = Resource::new(|| (), |_| load_integration_logs());
    let page = RwSignal::new(0usize);
    view! {
        <h2>"Integration logs"</h2>
        <p class="muted">"The latest 100 audit events, newest first. For the full trail with filters, open "
            <a href="/settings/developers/audit">"Audit"</a> "."</p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(events) if events.is_empty() => view! { <p class="empty-state">"No activity yet."</p> }.into_any(),
                    Ok(events) => {
                        let pages = events.len().div_ceil(LOGS_PER_PAGE);
                        let rows = move || events.iter().skip(page.get() * LOGS_PER_PAGE).take(LOGS_PER_PAGE).map(|event| view! {
                            <tr>
                                <td class="time" data-label="Time">{format_time(&event.occurred_at)}</td>
                                <td data-label="Source">{event.actor_label.clone()}</td>
                                <td data-label="Message">{event.message.clone().unwrap_or_else(|| event.event_type.clone())}</td>
                            </tr>
                        }).collect_view();
                        view! {
                            <div class="table-scroll">
                                <table class="data-table rows-on-phone" data-testid="integration-logs">
                                    <thead><tr><th scope="col">"Time"</th><th scope="col">"Source"</th><th scope="col">"Message"</th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            </div>
                            <div class="pager">
                                // Closures in braces: an unbraced `>=` would end the tag.
                                <button type="button" disabled={move || page.get() == 0}
                                    on:click=move |_| page.update(|value| *value -= 1)>"Previous"</button>
                                <span>"Page " {move || page.get() + 1} " of " {pages}</span>
                                <button type="button" disabled={move || page.get() + 1 >= pages}
                                    on:click=move |_| page.update(|value| *value += 1)>"Next"</button>
                            </div>
                        }.into_any()
                    }
                    Err(error) => show_error(error, move || events.refetch()),
                }
            })}
        </Suspense>
    }
}
