//! A list the server searches (the Audit page, the Logs page): the filter applied, the
//! pages loaded so far ("Load more" asks for the next by its cursor), the failure of
//! the last load with a retry that asks exactly that again, the filter form's parts
//! (typed fields, closed-list choices, the date range with Apply and Clear), and the
//! applied filter kept in the page's URL, so that a filtered view survives a reload and
//! can be shared as a link.

use chrono::{DateTime, Days, NaiveDate, Utc};
use gatehouse_model::Page;
use leptos::prelude::*;

use crate::error::AppError;
use crate::widgets::field_errors::{FieldErrors, OwnError};

/// Midnight UTC at the start of `day` (`YYYY-MM-DD`, as a date input gives it), moved
/// on by `days_after`; `None` for an empty field.
pub fn day_start(day: &str, days_after: u64) -> Result<Option<DateTime<Utc>>, String> {
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
pub fn typed(text: String) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// What a search answers besides its page (the Logs page's app and mode); `()` for
/// none.
pub trait Paged<T> {
    fn into_page(self) -> (Page<T>, Self::Context);
    type Context: Clone + Send + Sync + 'static;
}

impl<T> Paged<T> for Page<T> {
    type Context = ();
    fn into_page(self) -> (Page<T>, ()) {
        (self, ())
    }
}

/// The state of a searched list; `F` is its filter, `T` an item, `C` what the answer
/// says besides the page.
pub struct PagedSearch<F: Send + Sync + 'static, T: Send + Sync + 'static, C: Send + Sync + 'static>
{
    /// The filter the list shows; setting it loads the first page.
    pub applied: RwSignal<F>,
    pub shown: RwSignal<Vec<T>>,
    pub context: RwSignal<Option<C>>,
    pub next_cursor: RwSignal<Option<String>>,
    /// Whether any answer came yet (before it, the list shows "Loading…").
    pub loaded: RwSignal<bool>,
    pub failure: RwSignal<Option<AppError>>,
    pending: Memo<bool>,
    ask: Callback<(F, Option<String>)>,
    last_asked: StoredValue<(F, Option<String>)>,
}

impl<F: Send + Sync + 'static, T: Send + Sync + 'static, C: Send + Sync + 'static> Clone
    for PagedSearch<F, T, C>
{
    fn clone(&self) -> Self {
        *self
    }
}
impl<F: Send + Sync + 'static, T: Send + Sync + 'static, C: Send + Sync + 'static> Copy
    for PagedSearch<F, T, C>
{
}

impl<F, T, C> PagedSearch<F, T, C>
where
    F: Clone + Default + PartialEq + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
    C: Clone + Send + Sync + 'static,
{
    /// A list loaded by `search(filter, cursor)`, starting with the default filter.
    pub fn new<A, Fut>(search: fn(F, Option<String>) -> Fut) -> Self
    where
        A: Paged<T, Context = C> + Send + Sync + 'static,
        Fut: Future<Output = Result<A, AppError>> + Send + 'static,
    {
        let applied = RwSignal::new(F::default());
        let shown = RwSignal::new(Vec::<T>::new());
        let context = RwSignal::new(None::<C>);
        let next_cursor = RwSignal::new(None::<String>);
        let loaded = RwSignal::new(false);
        let failure = RwSignal::new(None::<AppError>);
        let load = Action::new(move |(filter, cursor): &(F, Option<String>)| {
            let (filter, cursor) = (filter.clone(), cursor.clone());
            async move {
                let more = cursor.is_some();
                (more, search(filter, cursor).await.map(Paged::into_page))
            }
        });
        Effect::new(move |_| match load.value().get() {
            Some((more, Ok((page, said)))) => {
                if more {
                    shown.update(|shown| shown.extend(page.data));
                } else {
                    shown.set(page.data);
                }
                context.set(Some(said));
                next_cursor.set(page.next_cursor);
                failure.set(None);
                loaded.set(true);
            }
            Some((_, Err(error))) => {
                failure.set(Some(error));
                loaded.set(true);
            }
            None => {}
        });
        let last_asked = StoredValue::new((F::default(), None::<String>));
        let ask = Callback::new(move |asked: (F, Option<String>)| {
            last_asked.set_value(asked.clone());
            load.dispatch(asked);
        });
        Effect::new(move |_| ask.run((applied.get(), None)));
        Self {
            applied,
            shown,
            context,
            next_cursor,
            loaded,
            failure,
            pending: Memo::new(move |_| load.pending().get()),
            ask,
            last_asked,
        }
    }

    /// Whether a load is under way (buttons that load wait for it).
    pub fn pending(&self) -> bool {
        self.pending.get()
    }

    /// Asks for the page after the last one shown.
    pub fn load_more(&self) {
        if let Some(cursor) = self.next_cursor.get_untracked() {
            self.ask.run((self.applied.get_untracked(), Some(cursor)));
        }
    }

    /// Asks again what failed to load.
    pub fn retry(&self) {
        self.ask.run(self.last_asked.get_value());
    }

    /// The messages of the last failed load by field, the page's own check (`own`)
    /// first.
    pub fn field_errors(&self, own: OwnError) -> FieldErrors {
        FieldErrors::new(self.failure).with_own(own)
    }

    /// The "Load more" button, while more pages follow.
    pub fn load_more_button(&self, test_id: &'static str) -> impl IntoView + use<F, T, C> {
        let search = *self;
        move || {
            search.next_cursor.get().is_some().then(|| {
                view! {
                    <div class="form-actions">
                        <button type="button" class="secondary" data-testid=test_id
                            disabled=move || search.pending() on:click=move |_| search.load_more()>"Load more"</button>
                    </div>
                }
            })
        }
    }
}

/// A filter form's fields kept in the page's query string (`?actor_id=usr_…`), by name.
#[derive(Clone, Copy)]
pub struct FiltersInUrl {
    fields: StoredValue<Vec<(&'static str, RwSignal<String>)>>,
}

impl FiltersInUrl {
    /// The fields, each set now from the page's URL where it names them.
    pub fn read(fields: Vec<(&'static str, RwSignal<String>)>) -> Self {
        let query = leptos_router::hooks::use_query_map();
        query.with_untracked(|query| {
            for (name, value) in &fields {
                if let Some(found) = query.get(name) {
                    value.set(found);
                }
            }
        });
        Self {
            fields: StoredValue::new(fields),
        }
    }

    /// Whether the URL set any field.
    pub fn any_set(&self) -> bool {
        self.fields.with_value(|fields| {
            fields
                .iter()
                .any(|(_, value)| !value.with_untracked(String::is_empty))
        })
    }

    /// Puts the fields' values in the URL in place of what it had (no new history entry,
    /// no navigation): what a reload or a shared link opens.
    pub fn write(&self) {
        let query = self.fields.with_value(|fields| query_string(fields));
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let path = window.location().pathname().unwrap_or_default();
            let url = if query.is_empty() {
                path
            } else {
                format!("{path}?{query}")
            };
            if let Ok(history) = window.history() {
                let _ =
                    history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = query;
    }
}

/// `name=value&…` of the fields that hold something, each value percent-encoded.
fn query_string(fields: &[(&'static str, RwSignal<String>)]) -> String {
    fields
        .iter()
        .filter_map(|(name, value)| {
            let value = value.get_untracked();
            let value = value.trim();
            (!value.is_empty()).then(|| format!("{name}={}", percent_encoded(value)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A query value with everything but unreserved characters percent-encoded.
fn percent_encoded(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// One typed filter: its label, its input (text unless `kind` says otherwise) and the
/// message for its field. The input's id is `{form}-{field}`.
#[component]
pub fn FilterField(
    form: &'static str,
    field: &'static str,
    label: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(default = "text")] kind: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("{form}-{field}");
    view! {
        <div>
            <label for=id.clone()>{label}</label>
            <input id=id type=kind placeholder=placeholder bind:value=value />
            <p class="field-error" data-field=field>{move || error.get()}</p>
        </div>
    }
}

/// A filter chosen from a closed list: its label and a select whose first choice, `any`
/// (the empty value), filters nothing; `value` holds the choice. The select's id is `id`.
/// The caller wraps it (with the field's message, where the server may refuse one).
#[component]
pub fn FilterChoice(
    id: &'static str,
    label: &'static str,
    any: &'static str,
    choices: Vec<&'static str>,
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <select id=id on:change=move |event| value.set(event_target_value(&event))>
            <option value="" prop:selected=move || value.with(String::is_empty)>{any}</option>
            {choices.into_iter().map(|choice| view! {
                <option value=choice prop:selected=move || value.with(|chosen| chosen == choice)>{choice}</option>
            }).collect_view()}
        </select>
    }
}

/// The end of a search's filter form, the same on the Audit and Logs pages: the From and
/// To days (inputs `{form}-from` and `{form}-to`), then "Apply filters", which waits
/// while a load is under way (`pending`), and "Clear".
#[component]
pub fn FilterFooter(
    form: &'static str,
    from_day: RwSignal<String>,
    to_day: RwSignal<String>,
    errors: FieldErrors,
    pending: Signal<bool>,
    on_clear: Callback<()>,
) -> impl IntoView {
    view! {
        <FilterField form field="from" label="From" kind="date" value=from_day error=errors.field("from") />
        <FilterField form field="to" label="To (inclusive)" kind="date" value=to_day error=errors.field("to") />
        <div class="form-actions">
            <button type="submit" disabled=move || pending.get()>"Apply filters"</button>
            <button type="button" class="secondary" on:click=move |_| on_clear.run(())>"Clear"</button>
        </div>
    }
}

/// A range of times, each end open when `None`.
pub type TimeRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The "Details" / "Hide" button of a row that opens in place beneath itself, one row
/// of the list at a time (`open` holds the open row's id); `controls` is the id of the
/// row's detail. Answers whether this row is open, and the button.
pub fn details_toggle<I>(
    open: RwSignal<Option<I>>,
    id: I,
    controls: String,
) -> (Signal<bool>, impl IntoView)
where
    I: Clone + PartialEq + Send + Sync + 'static,
{
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
    let button = view! {
        <button type="button" class="secondary" aria-expanded=move || is_open.get().to_string()
            aria-controls=controls on:click=toggle>
            {move || if is_open.get() { "Hide" } else { "Details" }}
        </button>
    };
    (is_open, button)
}

/// The from and to days of a filter form, read as a range of whole UTC days (`to`
/// includes its day); a day that does not read sets its field's message in `own`.
pub fn day_range(
    from_day: RwSignal<String>,
    to_day: RwSignal<String>,
    own: OwnError,
) -> Option<TimeRange> {
    let from = match day_start(&from_day.get_untracked(), 0) {
        Ok(from) => from,
        Err(message) => {
            own.set(Some(("from", message)));
            return None;
        }
    };
    let to = match day_start(&to_day.get_untracked(), 1) {
        Ok(to) => to,
        Err(message) => {
            own.set(Some(("to", message)));
            return None;
        }
    };
    own.set(None);
    Some((from, to))
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

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(percent_encoded("usr_01AB"), "usr_01AB");
        assert_eq!(
            percent_encoded("/v1/api-keys/{id}"),
            "%2Fv1%2Fapi-keys%2F%7Bid%7D"
        );
        assert_eq!(percent_encoded("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(percent_encoded("é"), "%C3%A9");
    }

    #[test]
    fn blank_filters_are_none() {
        assert_eq!(typed("  ".to_owned()), None);
        assert_eq!(typed(" key_1 ".to_owned()), Some("key_1".to_owned()));
    }
}
