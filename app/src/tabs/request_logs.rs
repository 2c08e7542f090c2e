//! The Logs page: the selected app's requests, live or test (never mixed), filtered by
//! status class, error code, route, key and dates (kept in the URL), newest first, a page at a time with
//! "Load more"; each request opens to all that was recorded of it. The filtering is the
//! server's (one domain search, as `GET /v1/request-logs`).

use gatehouse_model::{
    ApiKeyId, AppView, ErrorCode, KeyMode, Page, RequestId, RequestLogFilter, RequestLogView,
    RequestLogsPage, StatusClass,
};
use leptos::prelude::*;

use crate::server_fns::load_request_logs;
use crate::widgets::request_table::RequestTable;
use crate::widgets::search::{
    FilterChoice, FilterField, FilterFooter, FiltersInUrl, Paged, PagedSearch, day_range, typed,
};
use crate::widgets::ui::{app_label, failed_load, mode_label};

impl Paged<RequestLogView> for RequestLogsPage {
    type Context = (Option<AppView>, KeyMode);
    fn into_page(self) -> (Page<RequestLogView>, Self::Context) {
        (self.requests, (self.app, self.mode))
    }
}

#[component]
pub fn RequestLogsTab() -> impl IntoView {
    let status = RwSignal::new(String::new());
    let error_code = RwSignal::new(String::new());
    let route = RwSignal::new(String::new());
    let key_id = RwSignal::new(String::new());
    let from_day = RwSignal::new(String::new());
    let to_day = RwSignal::new(String::new());
    let own_error = RwSignal::new(None::<(&'static str, String)>);
    let open = RwSignal::new(None::<RequestId>);
    let search = PagedSearch::<RequestLogFilter, RequestLogView, (Option<AppView>, KeyMode)>::new(
        load_request_logs,
    );
    let errors = search.field_errors(own_error);
    let mode_field = RwSignal::new(String::new());
    let in_url = FiltersInUrl::read(vec![
        ("mode", mode_field),
        ("status", status),
        ("error_code", error_code),
        ("route", route),
        ("key_id", key_id),
        ("from", from_day),
        ("to", to_day),
    ]);
    let mode = move || {
        search
            .applied
            .with(|filter| filter.mode.unwrap_or(KeyMode::Live))
    };
    let show_mode = move |chosen: KeyMode| {
        open.set(None);
        search.applied.update(|filter| filter.mode = Some(chosen));
        mode_field.set(chosen.as_str().to_owned());
        in_url.write();
    };

    let apply = move |mode: KeyMode| {
        let key = match typed(key_id.get_untracked()) {
            None => None,
            Some(text) => match ApiKeyId::parse(&text) {
                Ok(id) => Some(id),
                Err(_) => {
                    return own_error
                        .set(Some(("key_id", "Use a key id such as key_01…".to_owned())));
                }
            },
        };
        let Some((from, to)) = day_range(from_day, to_day, own_error) else {
            return;
        };
        open.set(None);
        search.applied.set(RequestLogFilter {
            app_id: None,
            mode: Some(mode),
            status_class: StatusClass::parse(&status.get_untracked()),
            error_code: typed(error_code.get_untracked()),
            route: typed(route.get_untracked()),
            key_id: key,
            from,
            to,
        });
        in_url.write();
    };
    // A filtered view's link (or a reload) opens filtered, in its mode.
    if in_url.any_set() {
        apply(KeyMode::parse(&mode_field.get_untracked()).unwrap_or(KeyMode::Live));
    }
    let on_apply = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        apply(mode());
    };
    let on_clear = move |()| {
        for field in [status, error_code, route, key_id, from_day, to_day] {
            field.set(String::new());
        }
        own_error.set(None);
        open.set(None);
        search.applied.set(RequestLogFilter {
            mode: Some(mode()),
            ..RequestLogFilter::default()
        });
        in_url.write();
    };
    let app = move || search.context.get().and_then(|(app, _)| app);

    view! {
        <h2>"Logs"</h2>
        <p class="muted" data-testid="logs-app">
            {move || match (search.loaded.get(), app()) {
                (true, Some(app)) => format!("Every API call made with a key of {} and every verification of one of its keys, newest first. Dates are in UTC.", app_label(&app)),
                _ => "Every API call made with a key of the selected app and every verification of one of its keys, newest first. Dates are in UTC.".to_owned(),
            }}
        </p>
        <div class="segmented" role="group" aria-label="Mode">
            {[KeyMode::Live, KeyMode::Test].into_iter().map(|shown| view! {
                <button type="button" data-testid=format!("logs-mode-{}", shown.as_str())
                    aria-pressed=move || (mode() == shown).to_string()
                    on:click=move |_| show_mode(shown)>{mode_label(shown)}</button>
            }).collect_view()}
        </div>
        <form class="audit-filters" on:submit=on_apply novalidate data-testid="logs-filters">
            <div>
                <FilterChoice id="logs-status" label="Status" any="Any status"
                    choices=StatusClass::ALL.iter().map(|class| class.as_str()).collect() value=status />
            </div>
            <div>
                <FilterChoice id="logs-error_code" label="Error code" any="Any or none"
                    choices=ErrorCode::ALL.iter().map(|code| code.as_str()).collect() value=error_code />
                <p class="field-error" data-field="error_code">{errors.field("error_code")}</p>
            </div>
            <FilterField form="logs" field="route" label="Route" placeholder="/v1/api-keys/{id}"
                value=route error=errors.field("route") />
            <FilterField form="logs" field="key_id" label="Key id" placeholder="key_…"
                value=key_id error=errors.field("key_id") />
            <FilterFooter form="logs" from_day to_day errors
                pending=Signal::derive(move || search.pending()) on_clear=Callback::new(on_clear) />
        </form>
        {failed_load(move || errors.general(), move || search.retry())}
        {move || if !search.loaded.get() {
            view! { <p class="loading">"Loading…"</p> }.into_any()
        } else if search.context.with(|said| matches!(said, Some((None, _)))) {
            view! { <p class="empty-state" data-testid="logs-empty">"No app is selected: choose one on the "
                <a href="/settings/developers/apps">"Apps"</a> " tab to see its requests."</p> }.into_any()
        } else if search.shown.with(Vec::is_empty) {
            // A rare filter's page can be empty with more of the log left to search.
            let searched_so_far = move || search.next_cursor.with(Option::is_some);
            view! { <p class="empty-state" data-testid="logs-empty">{move || if searched_so_far() {
                format!("No {} requests match these filters in the newest part of the log: Load more searches further back.", mode().as_str())
            } else {
                format!("No {} requests match these filters.", mode().as_str())
            }}</p> }.into_any()
        } else {
            view! {
                <RequestTable requests=Signal::derive(move || search.shown.get()) open test_id="request-logs"
                    caption="Requests, newest first" />
            }.into_any()
        }}
        {search.load_more_button("logs-load-more")}
    }
}
