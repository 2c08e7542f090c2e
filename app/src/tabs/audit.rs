//! The Audit page: the tenant's whole audit trail, filtered by event type,
//! actor, related id and dates (kept in the URL), newest first, a page at a time with "Load more"; each
//! event opens to its related ids and the fields its change set, changed or removed.
//! The filtering is the server's (one domain search, as `GET /v1/audit-events`).

use gatehouse_model::{AuditEventId, AuditEventView, AuditFilter, EventType};
use leptos::prelude::*;

use crate::server_fns::load_audit_events;
use crate::widgets::search::{
    FilterChoice, FilterField, FilterFooter, FiltersInUrl, PagedSearch, day_range, details_toggle,
    typed,
};
use crate::widgets::ui::{failed_load, format_time};

#[component]
pub fn AuditTab() -> impl IntoView {
    let event_type = RwSignal::new(String::new());
    let actor_id = RwSignal::new(String::new());
    let related_id = RwSignal::new(String::new());
    let from_day = RwSignal::new(String::new());
    let to_day = RwSignal::new(String::new());
    let date_error = RwSignal::new(None::<(&'static str, String)>);
    let open = RwSignal::new(None::<AuditEventId>);
    let search = PagedSearch::<AuditFilter, AuditEventView, ()>::new(load_audit_events);
    let errors = search.field_errors(date_error);
    let in_url = FiltersInUrl::read(vec![
        ("event_type", event_type),
        ("actor_id", actor_id),
        ("related_id", related_id),
        ("from", from_day),
        ("to", to_day),
    ]);

    let apply = move || {
        let Some((from, to)) = day_range(from_day, to_day, date_error) else {
            return;
        };
        open.set(None);
        search.applied.set(AuditFilter {
            event_type: EventType::parse(&event_type.get_untracked()),
            actor_id: typed(actor_id.get_untracked()),
            related_id: typed(related_id.get_untracked()),
            from,
            to,
        });
        in_url.write();
    };
    // A filtered view's link (or a reload) opens filtered.
    if in_url.any_set() {
        apply();
    }
    let on_apply = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        apply();
    };
    let on_clear = move |()| {
        for field in [event_type, actor_id, related_id, from_day, to_day] {
            field.set(String::new());
        }
        date_error.set(None);
        open.set(None);
        search.applied.set(AuditFilter::default());
        in_url.write();
    };

    view! {
        <h2>"Audit"</h2>
        <p class="muted">"Every change in this workspace, newest first: who did it, when, to what, and what it changed. Dates are in UTC."</p>
        <form class="audit-filters" on:submit=on_apply novalidate data-testid="audit-filters">
            <div>
                <FilterChoice id="audit-event-type" label="Event type" any="All event types"
                    choices=EventType::ALL.iter().map(|kind| kind.as_str()).collect() value=event_type />
            </div>
            <FilterField form="audit" field="actor_id" label="Actor id" placeholder="usr_… or key_…"
                value=actor_id error=errors.field("actor_id") />
            <FilterField form="audit" field="related_id" label="Related id" placeholder="app_…, key_…, an endpoint or your own id"
                value=related_id error=errors.field("related_id") />
            <FilterFooter form="audit" from_day to_day errors
                pending=Signal::derive(move || search.pending()) on_clear=Callback::new(on_clear) />
        </form>
        {failed_load(move || errors.general(), move || search.retry())}
        {move || if !search.loaded.get() {
            view! { <p class="loading">"Loading…"</p> }.into_any()
        } else if search.shown.with(Vec::is_empty) {
            view! { <p class="empty-state" data-testid="audit-empty">"No audit events match these filters."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table class="data-table audit-table rows-on-phone" data-testid="audit-events">
                        <caption class="visually-hidden">"Audit events, newest first"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Time"</th>
                                <th scope="col">"Event"</th>
                                <th scope="col">"Actor"</th>
                                <th scope="col">"Message"</th>
                                <th scope="col"><span class="visually-hidden">"Details"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {move || search.shown.get().into_iter().map(|event| view! { <AuditRow event open /> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        {search.load_more_button("audit-load-more")}
    }
}

/// One event's line, and beneath it, when open, its related ids and changes.
#[component]
fn AuditRow(event: AuditEventView, open: RwSignal<Option<AuditEventId>>) -> impl IntoView {
    let changes = event.changes();
    let related: Vec<(String, String)> = event
        .app_id
        .iter()
        .map(|app_id| ("app_id".to_owned(), app_id.to_string()))
        .chain(event.related_ids.clone())
        .collect();
    let detail_id = format!("audit-detail-{}", event.id);
    let (is_open, details_button) = details_toggle(open, event.id.clone(), detail_id.clone());
    view! {
        <tr data-testid="audit-row" data-event-id=event.id.to_string() data-event-type=event.event_type.clone()>
            <td class="time" data-label="Time">{format_time(&event.occurred_at)}</td>
            <td data-label="Event"><code>{event.event_type.clone()}</code></td>
            <td data-label="Actor">{event.actor_label.clone()}
                {event.actor_id.clone().map(|actor_id| view! { <div class="muted small"><code>{actor_id}</code></div> })}</td>
            <td data-label="Message">{event.message.clone().unwrap_or_else(|| event.event_type.clone())}</td>
            <td class="actions">{details_button}</td>
        </tr>
        {move || is_open.get().then(|| view! {
            <tr class="audit-detail" id=detail_id.clone() data-testid="audit-detail">
                <td colspan="5">
                    <dl class="facts">
                        <dt>"Event id"</dt><dd><code>{event.id.to_string()}</code></dd>
                        {related.iter().map(|(name, value)| view! {
                            <dt>{name.clone()}</dt><dd><code data-testid="related-id">{value.clone()}</code></dd>
                        }).collect_view()}
                    </dl>
                    {if changes.is_empty() {
                        view! { <p class="muted">"No before or after state is recorded for this event."</p> }.into_any()
                    } else {
                        view! {
                            <table class="changes" data-testid="audit-changes">
                                <thead><tr><th scope="col">"Field"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
                                <tbody>
                                    {changes.iter().map(|change| {
                                        let kind = match (&change.before, &change.after) {
                                            (None, _) => "added",
                                            (_, None) => "removed",
                                            _ => "changed",
                                        };
                                        view! {
                                            <tr data-testid="audit-change" data-field=change.field.clone() data-change=kind>
                                                <th scope="row">{change.field.clone()}</th>
                                                <td class="before">{change.before.clone().unwrap_or_else(|| "—".to_owned())}</td>
                                                <td class="after">{change.after.clone().unwrap_or_else(|| "— removed".to_owned())}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                </td>
            </tr>
        })}
    }
}
