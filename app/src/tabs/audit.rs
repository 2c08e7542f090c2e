//! The Audit page (SPEC L-4): the tenant's whole audit trail, filtered by event type,
//! actor, related id and dates, newest first, a page at a time with "Load more"; each
//! event opens to its related ids and the fields its change set, changed or removed.
//! The filtering is the server's (one domain search, as `GET /v1/audit-events`).

use chrono::{DateTime, Days, NaiveDate, Utc};
use gatehouse_model::{AuditEventId, AuditEventView, AuditFilter, EventType, Page};
use leptos::prelude::*;

use crate::error::AppError;
use crate::server_fns::load_audit_events;
use crate::ui::{failed_load, format_time};

/// Midnight UTC at the start of `day` (`YYYY-MM-DD`, as a date input gives it), moved
/// on by `days_after`; `None` for an empty field.
fn day_start(day: &str, days_after: u64) -> Result<Option<DateTime<Utc>>, String> {
    let day = day.trim();
    if day.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.checked_add_days(Days::new(days_after)))
        .map(|date| Some(date.and_time(chrono::NaiveTime::MIN).and_utc()))
        .ok_or_else(|| "Use a date such as 2026-03-01.".to_owned())
}

/// The text of an optional field: `None` when blank.
fn typed(text: String) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

#[component]
pub fn AuditTab() -> impl IntoView {
    let event_type = RwSignal::new(String::new());
    let actor_id = RwSignal::new(String::new());
    let related_id = RwSignal::new(String::new());
    let from_day = RwSignal::new(String::new());
    let to_day = RwSignal::new(String::new());
    let date_error = RwSignal::new(None::<(&'static str, String)>);

    let applied = RwSignal::new(AuditFilter::default());
    let shown = RwSignal::new(Vec::<AuditEventView>::new());
    let next_cursor = RwSignal::new(None::<String>);
    let loaded = RwSignal::new(false);
    let failure = RwSignal::new(None::<AppError>);
    let open = RwSignal::new(None::<AuditEventId>);
    let load = Action::new(|(filter, cursor): &(AuditFilter, Option<String>)| {
        let (filter, cursor) = (filter.clone(), cursor.clone());
        async move { (cursor.is_some(), load_audit_events(filter, cursor).await) }
    });
    Effect::new(move |_| match load.value().get() {
        Some((
            more,
            Ok(Page {
                data,
                next_cursor: next,
                ..
            }),
        )) => {
            if more {
                shown.update(|shown| shown.extend(data));
            } else {
                shown.set(data);
            }
            next_cursor.set(next);
            failure.set(None);
            loaded.set(true);
        }
        Some((_, Err(error))) => {
            failure.set(Some(error));
            loaded.set(true);
        }
        None => {}
    });
    // What was asked last, to ask again after a failure.
    let last_asked = StoredValue::new((AuditFilter::default(), None::<String>));
    let ask = move |asked: (AuditFilter, Option<String>)| {
        last_asked.set_value(asked.clone());
        load.dispatch(asked);
    };
    Effect::new(move |_| ask((applied.get(), None)));

    let field_error = move |field: &'static str| {
        Signal::derive(move || {
            date_error
                .get()
                .filter(|(named, _)| *named == field)
                .map(|(_, message)| message)
                .or_else(|| failure.get().and_then(|error| error.field(field)))
        })
    };
    let general_error = move || {
        failure
            .get()
            .filter(|error| error.0.details.fields.is_empty())
            .map(|error| error.to_string())
    };
    let on_apply = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let from = match day_start(&from_day.get_untracked(), 0) {
            Ok(from) => from,
            Err(message) => return date_error.set(Some(("from", message))),
        };
        let to = match day_start(&to_day.get_untracked(), 1) {
            Ok(to) => to,
            Err(message) => return date_error.set(Some(("to", message))),
        };
        date_error.set(None);
        open.set(None);
        applied.set(AuditFilter {
            event_type: EventType::parse(&event_type.get_untracked()),
            actor_id: typed(actor_id.get_untracked()),
            related_id: typed(related_id.get_untracked()),
            from,
            to,
        });
    };
    let on_clear = move |_| {
        for field in [event_type, actor_id, related_id, from_day, to_day] {
            field.set(String::new());
        }
        date_error.set(None);
        open.set(None);
        applied.set(AuditFilter::default());
    };
    let load_more = move |_| {
        if let Some(cursor) = next_cursor.get_untracked() {
            ask((applied.get_untracked(), Some(cursor)));
        }
    };

    view! {
        <h2>"Audit"</h2>
        <p class="muted">"Every change in this workspace, newest first: who did it, when, to what, and what it changed. Dates are in UTC."</p>
        <form class="audit-filters" on:submit=on_apply novalidate data-testid="audit-filters">
            <div>
                <label for="audit-event-type">"Event type"</label>
                <select id="audit-event-type" on:change=move |event| event_type.set(event_target_value(&event))>
                    <option value="" prop:selected=move || event_type.with(String::is_empty)>"All event types"</option>
                    {EventType::ALL.iter().map(|kind| view! {
                        <option value=kind.as_str() prop:selected=move || event_type.with(|chosen| chosen == kind.as_str())>{kind.as_str()}</option>
                    }).collect_view()}
                </select>
            </div>
            <FilterField field="actor_id" label="Actor id" placeholder="usr_… or key_…"
                value=actor_id error=field_error("actor_id") />
            <FilterField field="related_id" label="Related id" placeholder="app_…, key_…, an endpoint or your own id"
                value=related_id error=field_error("related_id") />
            <FilterField field="from" label="From" kind="date" value=from_day error=field_error("from") />
            <FilterField field="to" label="To (inclusive)" kind="date" value=to_day error=field_error("to") />
            <div class="form-actions">
                <button type="submit" disabled=move || load.pending().get()>"Apply filters"</button>
                <button type="button" class="secondary" on:click=on_clear>"Clear"</button>
            </div>
        </form>
        {failed_load(general_error, move || ask(last_asked.get_value()))}
        {move || if !loaded.get() {
            view! { <p class="loading">"Loading…"</p> }.into_any()
        } else if shown.with(Vec::is_empty) {
            view! { <p class="empty-state" data-testid="audit-empty">"No audit events match these filters."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table class="keys-table audit-table rows-on-phone" data-testid="audit-events">
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
                            {move || shown.get().into_iter().map(|event| view! { <AuditRow event open /> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        {move || next_cursor.get().is_some().then(|| view! {
            <div class="form-actions">
                <button type="button" class="secondary" data-testid="audit-load-more"
                    disabled=move || load.pending().get() on:click=load_more>"Load more"</button>
            </div>
        })}
    }
}

/// One typed filter: its label, its input (text unless `kind` says otherwise) and the
/// message for its field.
#[component]
fn FilterField(
    field: &'static str,
    label: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(default = "text")] kind: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("audit-{field}");
    view! {
        <div>
            <label for=id.clone()>{label}</label>
            <input id=id type=kind placeholder=placeholder bind:value=value />
            <p class="field-error" data-field=field>{move || error.get()}</p>
        </div>
    }
}

/// One event's line, and beneath it, when open, its related ids and changes.
#[component]
fn AuditRow(event: AuditEventView, open: RwSignal<Option<AuditEventId>>) -> impl IntoView {
    let id = event.id.clone();
    let is_open = {
        let id = id.clone();
        Signal::derive(move || open.with(|open| open.as_ref() == Some(&id)))
    };
    let toggle = move |_| {
        open.update(|open| {
            *open = if open.as_ref() == Some(&id) {
                None
            } else {
                Some(id.clone())
            }
        })
    };
    let changes = event.changes();
    let related: Vec<(String, String)> = event
        .app_id
        .iter()
        .map(|app_id| ("app_id".to_owned(), app_id.to_string()))
        .chain(event.related_ids.clone())
        .collect();
    let detail_id = format!("audit-detail-{}", event.id);
    view! {
        <tr data-testid="audit-row" data-event-id=event.id.to_string() data-event-type=event.event_type.clone()>
            <td class="time" data-label="Time">{format_time(&event.occurred_at)}</td>
            <td data-label="Event"><code>{event.event_type.clone()}</code></td>
            <td data-label="Actor">{event.actor_label.clone()}
                {event.actor_id.clone().map(|actor_id| view! { <div class="muted small"><code>{actor_id}</code></div> })}</td>
            <td data-label="Message">{event.message.clone().unwrap_or_else(|| event.event_type.clone())}</td>
            <td class="actions"><button type="button" class="secondary" aria-expanded=move || is_open.get().to_string()
                aria-controls=detail_id.clone() on:click=toggle>
                {move || if is_open.get() { "Hide" } else { "Details" }}
            </button></td>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_whole_utc_days_and_to_includes_its_day() {
        let day = |text, after| day_start(text, after).map(|time| time.map(|t| t.to_rfc3339()));
        assert_eq!(day("", 0), Ok(None));
        assert_eq!(
            day("2026-03-01", 0),
            Ok(Some("2026-03-01T00:00:00+00:00".to_owned()))
        );
        assert_eq!(
            day(" 2026-02-28 ", 1),
            Ok(Some("2026-03-01T00:00:00+00:00".to_owned()))
        );
        assert!(day("01/03/2026", 0).is_err());
        assert!(day("2026-02-30", 0).is_err());
    }
}
