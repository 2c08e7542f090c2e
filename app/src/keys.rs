//! The API keys tab (SPEC K-1..K-11): the selected app's keys, the create dialog with its
//! scope picker, the one-time "Save your API key" step, and each key's detail and actions.
//! Every rule (validation, statuses, what may change) is the server's; this module only
//! gathers input, calls the server functions and shows their answers.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use gatehouse_model::{
    ApiKeyId, ApiKeyInput, ApiKeyListItem, ApiKeyUpdate, ApiKeyView, AppId, CreatedApiKey, KeyMode,
    KeyStatus, KeyType, RotationOverlap, ScopeCatalog,
};
use leptos::prelude::*;

use crate::components::format_time;
use crate::error::AppError;
use crate::server_fns::{
    create_api_key, duplicate_api_key, load_api_keys, revoke_api_key, rotate_api_key,
    set_api_key_enabled, update_api_key,
};

/// The warning of the one-time secret step (SPEC K-3), word for word.
pub const ONE_TIME_WARNING: &str = "This key will only be shown once. Copy it now and store it securely. After closing this dialog, only the prefix is visible.";

/// The expiry choices of the create dialog: (value, label).
const EXPIRY_CHOICES: &[(&str, &str)] = &[
    ("30", "30 days"),
    ("60", "60 days"),
    ("90", "90 days"),
    ("custom", "Custom number of days"),
    ("never", "Never"),
];

/// The overlap choices of a rotation: (value, label, overlap).
const OVERLAP_CHOICES: &[(&str, &str, RotationOverlap)] = &[
    ("now", "Now", RotationOverlap::Now),
    ("1h", "In 1 hour", RotationOverlap::OneHour),
    ("24h", "In 24 hours", RotationOverlap::OneDay),
    ("7d", "In 7 days", RotationOverlap::SevenDays),
];

/// Milliseconds since the epoch, from the browser's clock in the browser.
fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        web_sys::js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
            })
    }
}

/// The number of days the expiry choice means: `None` for never. Only reading the
/// number is done here; the server decides which numbers are allowed.
pub fn chosen_expiry_days(choice: &str, custom: &str) -> Result<Option<i64>, String> {
    match choice {
        "never" => Ok(None),
        "custom" => custom
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| "Enter a whole number of days.".to_owned()),
        days => days
            .parse::<i64>()
            .map(Some)
            .map_err(|_| "Choose an expiry.".to_owned()),
    }
}

/// `now + days` as the absolute `expires_at` the API takes (SPEC K-1); `None` when the
/// sum does not fit a date (the server then refuses the number of days).
pub fn expires_at(now_ms: i64, days: i64) -> Option<DateTime<Utc>> {
    let now = DateTime::<Utc>::from_timestamp_millis(now_ms)?;
    now.checked_add_signed(chrono::TimeDelta::try_days(days)?)
}

/// The scopes typed one per line, trimmed, blank lines dropped.
pub fn scope_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The ticked scopes in catalog order (then any ticked ones the catalog lacks), then the
/// typed ones, each once.
pub fn merge_scopes(catalog_order: &[String], ticked: &[String], typed: &str) -> Vec<String> {
    let mut scopes: Vec<String> = catalog_order
        .iter()
        .filter(|scope| ticked.contains(scope))
        .cloned()
        .collect();
    for scope in ticked.iter().cloned().chain(scope_lines(typed)) {
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes
}

/// The list's scopes cell: each scope as code, or "Full access" (K-11).
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

/// Scopes as the list shows them inline: "Full access" for secret and legacy keys (K-11).
pub fn scopes_label(scopes: Option<&[String]>) -> String {
    match scopes {
        None => "Full access".to_owned(),
        Some([]) => "No scopes".to_owned(),
        Some(scopes) => scopes.join(", "),
    }
}

fn mode_label(mode: KeyMode) -> &'static str {
    match mode {
        KeyMode::Live => "Live",
        KeyMode::Test => "Test",
    }
}

fn type_label(key_type: KeyType) -> &'static str {
    match key_type {
        KeyType::Secret => "Secret (full access)",
        KeyType::Restricted => "Restricted",
    }
}

fn overlap_label(overlap: RotationOverlap) -> &'static str {
    match overlap {
        RotationOverlap::Now => "The previous secret stopped working now.",
        RotationOverlap::OneHour => "The previous secret keeps working for 1 hour.",
        RotationOverlap::OneDay => "The previous secret keeps working for 24 hours.",
        RotationOverlap::SevenDays => "The previous secret keeps working for 7 days.",
    }
}

fn expiry_text(key: &ApiKeyView) -> String {
    key.expires_at
        .as_ref()
        .map_or_else(|| "Never".to_owned(), format_time)
}

/// A day as the list shows it; the full time is in the cell's title.
fn format_day(time: &DateTime<Utc>) -> String {
    time.format("%Y-%m-%d").to_string()
}

fn last_used_text(key: &ApiKeyView) -> String {
    key.last_used_at
        .as_ref()
        .map_or_else(|| "Never".to_owned(), format_time)
}

/// A plaintext key on its way to the one-time dialog, and what to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OneTimeSecret {
    key_name: String,
    mode: KeyMode,
    plaintext: String,
    note: Option<&'static str>,
}

impl OneTimeSecret {
    fn new(created: CreatedApiKey, note: Option<&'static str>) -> Self {
        Self {
            key_name: created.key.name,
            mode: created.key.mode,
            plaintext: created.plaintext,
            note,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum CopyState {
    Idle,
    Copied,
    Failed,
}

/// What the create dialog holds; it outlives re-renders of the list, so a refused
/// create keeps the input.
#[derive(Clone, Copy)]
struct CreateForm {
    open: RwSignal<bool>,
    name: RwSignal<String>,
    description: RwSignal<String>,
    mode: RwSignal<KeyMode>,
    key_type: RwSignal<KeyType>,
    ticked: RwSignal<Vec<String>>,
    typed: RwSignal<String>,
    expiry: RwSignal<String>,
    custom_days: RwSignal<String>,
    expiry_error: RwSignal<Option<String>>,
}

impl CreateForm {
    fn new() -> Self {
        Self {
            open: RwSignal::new(false),
            name: RwSignal::new(String::new()),
            description: RwSignal::new(String::new()),
            mode: RwSignal::new(KeyMode::Live),
            key_type: RwSignal::new(KeyType::Restricted),
            ticked: RwSignal::new(Vec::new()),
            typed: RwSignal::new(String::new()),
            expiry: RwSignal::new("90".to_owned()),
            custom_days: RwSignal::new(String::new()),
            expiry_error: RwSignal::new(None),
        }
    }

    /// A fresh form with the catalog's default pre-selection (SPEC K-2).
    fn reset(&self, catalog: &ScopeCatalog) {
        self.name.set(String::new());
        self.description.set(String::new());
        self.mode.set(KeyMode::Live);
        self.key_type.set(KeyType::Restricted);
        self.ticked.set(catalog.default_scopes.clone());
        self.typed.set(String::new());
        self.expiry.set("90".to_owned());
        self.custom_days.set(String::new());
        self.expiry_error.set(None);
    }
}

/// What the key detail's edit form holds.
#[derive(Clone, Copy)]
struct EditForm {
    name: RwSignal<String>,
    description: RwSignal<String>,
    ticked: RwSignal<Vec<String>>,
    typed: RwSignal<String>,
}

impl EditForm {
    fn new() -> Self {
        Self {
            name: RwSignal::new(String::new()),
            description: RwSignal::new(String::new()),
            ticked: RwSignal::new(Vec::new()),
            typed: RwSignal::new(String::new()),
        }
    }

    fn load(&self, key: &ApiKeyView) {
        self.name.set(key.name.clone());
        self.description.set(key.description.clone());
        self.ticked.set(key.scopes.clone().unwrap_or_default());
        self.typed.set(String::new());
    }
}

type Answer<T> = Result<T, AppError>;

/// The tab's server calls, one action each.
#[derive(Clone, Copy)]
struct KeyActions {
    create: Action<ApiKeyInput, Answer<CreatedApiKey>>,
    update: Action<(ApiKeyId, ApiKeyUpdate), Answer<ApiKeyView>>,
    set_enabled: Action<(ApiKeyId, bool), Answer<ApiKeyView>>,
    revoke: Action<ApiKeyId, Answer<ApiKeyView>>,
    rotate: Action<(ApiKeyId, RotationOverlap), Answer<(CreatedApiKey, RotationOverlap)>>,
    duplicate: Action<ApiKeyId, Answer<CreatedApiKey>>,
}

impl KeyActions {
    fn new() -> Self {
        Self {
            create: Action::new(|input: &ApiKeyInput| create_api_key(input.clone())),
            update: Action::new(|(key_id, update): &(ApiKeyId, ApiKeyUpdate)| {
                update_api_key(key_id.clone(), update.clone())
            }),
            set_enabled: Action::new(|(key_id, enabled): &(ApiKeyId, bool)| {
                set_api_key_enabled(key_id.clone(), *enabled)
            }),
            revoke: Action::new(|key_id: &ApiKeyId| revoke_api_key(key_id.clone())),
            rotate: Action::new(|(key_id, overlap): &(ApiKeyId, RotationOverlap)| {
                let (key_id, overlap) = (key_id.clone(), *overlap);
                async move {
                    rotate_api_key(key_id, overlap)
                        .await
                        .map(|created| (created, overlap))
                }
            }),
            duplicate: Action::new(|key_id: &ApiKeyId| duplicate_api_key(key_id.clone())),
        }
    }

    fn busy(&self) -> bool {
        self.update.pending().get()
            || self.set_enabled.pending().get()
            || self.revoke.pending().get()
            || self.rotate.pending().get()
            || self.duplicate.pending().get()
    }
}

/// The state the key detail works on.
#[derive(Clone, Copy)]
struct Detail {
    managing: RwSignal<Option<ApiKeyId>>,
    edit: EditForm,
    error: RwSignal<Option<String>>,
    confirming_revoke: RwSignal<bool>,
    overlap: RwSignal<RotationOverlap>,
}

impl Detail {
    fn open(&self, key: &ApiKeyView, actions: KeyActions) {
        self.edit.load(key);
        self.error.set(None);
        self.confirming_revoke.set(false);
        self.overlap.set(RotationOverlap::OneDay);
        actions.update.value().set(None);
        self.managing.set(Some(key.id.clone()));
    }

    fn close(&self) {
        self.confirming_revoke.set(false);
        self.managing.set(None);
    }
}

fn show_error(error: AppError) -> AnyView {
    view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any()
}

/// Closes a dialog on Escape.
fn on_escape(close: impl Fn() + Copy + 'static) -> impl Fn(leptos::ev::KeyboardEvent) {
    move |event| {
        if event.key() == "Escape" {
            close();
        }
    }
}

#[component]
pub fn ApiKeysTab() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let page = Resource::new(move || version.get(), |_| load_api_keys());
    let refetch = move || version.update(|value| *value += 1);
    let notice = RwSignal::new(None::<String>);
    let secret = RwSignal::new(None::<OneTimeSecret>);
    let form = CreateForm::new();
    let actions = KeyActions::new();
    let detail = Detail {
        managing: RwSignal::new(None),
        edit: EditForm::new(),
        error: RwSignal::new(None),
        confirming_revoke: RwSignal::new(false),
        overlap: RwSignal::new(RotationOverlap::OneDay),
    };

    // Each answer is taken out of its action at once, so the plaintext lives only in
    // `secret`, and closing the dialog drops it.
    Effect::new(move |_| {
        if let Some(Ok(created)) = actions.create.value().get() {
            actions.create.value().set(None);
            form.open.set(false);
            notice.set(Some(format!("Created {}.", created.key.name)));
            secret.set(Some(OneTimeSecret::new(created, None)));
            refetch();
        }
    });
    Effect::new(move |_| {
        // A refused edit stays in the action: the form shows it beside its field.
        if let Some(Ok(key)) = actions.update.value().get() {
            actions.update.value().set(None);
            notice.set(Some(format!("Saved changes to {}.", key.name)));
            refetch();
        }
    });
    Effect::new(move |_| match actions.set_enabled.value().get() {
        Some(Ok(key)) => {
            actions.set_enabled.value().set(None);
            notice.set(Some(format!(
                "{} is now {}.",
                key.name,
                key.status.as_str()
            )));
            refetch();
        }
        Some(Err(error)) => detail.error.set(Some(error.to_string())),
        None => {}
    });
    Effect::new(move |_| match actions.revoke.value().get() {
        Some(Ok(key)) => {
            actions.revoke.value().set(None);
            detail.confirming_revoke.set(false);
            notice.set(Some(format!("Revoked {}.", key.name)));
            refetch();
        }
        Some(Err(error)) => {
            detail.confirming_revoke.set(false);
            detail.error.set(Some(error.to_string()));
        }
        None => {}
    });
    Effect::new(move |_| match actions.rotate.value().get() {
        Some(Ok((created, overlap))) => {
            actions.rotate.value().set(None);
            detail.close();
            notice.set(Some(format!("Rotated {}.", created.key.name)));
            secret.set(Some(OneTimeSecret::new(
                created,
                Some(overlap_label(overlap)),
            )));
            refetch();
        }
        Some(Err(error)) => detail.error.set(Some(error.to_string())),
        None => {}
    });
    Effect::new(move |_| match actions.duplicate.value().get() {
        Some(Ok(created)) => {
            actions.duplicate.value().set(None);
            detail.close();
            notice.set(Some(format!("Created {}.", created.key.name)));
            secret.set(Some(OneTimeSecret::new(created, None)));
            refetch();
        }
        Some(Err(error)) => detail.error.set(Some(error.to_string())),
        None => {}
    });

    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => match page.app {
                        None => view! {
                            <div class="empty-state" data-testid="no-app-selected">
                                <h2>"Select an app first"</h2>
                                <p>"API keys are always bound to an app. Create or select one in the "
                                    <a href="/settings/developers/apps">"Apps tab"</a> "."</p>
                            </div>
                        }.into_any(),
                        Some(app) => {
                            let keys = Arc::new(page.keys);
                            let catalog = Arc::new(page.catalog);
                            view! {
                                <KeysForApp
                                    app_id=app.id
                                    app_name=app.name
                                    keys
                                    catalog
                                    form
                                    actions
                                    detail
                                    notice
                                />
                            }.into_any()
                        }
                    },
                    Err(error) => show_error(error),
                }
            })}
        </Transition>
        {move || secret.get().map(|shown| view! { <SecretDialog shown secret /> })}
    }
}

#[component]
fn KeysForApp(
    app_id: AppId,
    app_name: String,
    keys: Arc<Vec<ApiKeyListItem>>,
    catalog: Arc<ScopeCatalog>,
    form: CreateForm,
    actions: KeyActions,
    detail: Detail,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let open_create = {
        let catalog = catalog.clone();
        move || {
            form.reset(&catalog);
            actions.create.value().set(None);
            notice.set(None);
            form.open.set(true);
        }
    };
    let create_button = {
        let open_create = open_create.clone();
        move || {
            let open_create = open_create.clone();
            view! {
                <button type="button" data-testid="create-key" on:click=move |_| open_create()>
                    "Create API key"
                </button>
            }
        }
    };
    let has_keys = !keys.is_empty();
    let list = if has_keys {
        view! { <KeysTable keys=keys.clone() actions detail notice /> }.into_any()
    } else {
        view! {
            <div class="empty-state" data-testid="keys-empty">
                <h2>"No API keys yet"</h2>
                <p>"Create a key so that a service can call the Gatehouse API for " {app_name.clone()} "."</p>
                {create_button()}
            </div>
        }
        .into_any()
    };
    let create_dialog = {
        let catalog = catalog.clone();
        let app_id = app_id.clone();
        let app_name = app_name.clone();
        move || {
            form.open.get().then(|| {
                view! {
                    <CreateDialog
                        catalog=catalog.clone()
                        app_id=app_id.clone()
                        app_name=app_name.clone()
                        form
                        create=actions.create
                    />
                }
                .into_any()
            })
        }
    };
    let key_detail = move || {
        let managing = detail.managing.get()?;
        let item = keys.iter().find(|item| item.key.id == managing)?.clone();
        Some(view! { <KeyDetail item catalog=catalog.clone() actions detail /> }.into_any())
    };
    view! {
        <header class="keys-header">
            <div>
                <h2 data-testid="keys-heading">"Keys for " {app_name.clone()}</h2>
                <p class="muted small">"API keys are bound to this app. To work on another app, select it in the "
                    <a href="/settings/developers/apps">"Apps tab"</a> "."</p>
            </div>
            {has_keys.then(create_button)}
        </header>
        <p class="notice" role="status">{move || notice.get()}</p>
        {list}
        {create_dialog}
        {key_detail}
    }
    .into_any()
}

#[component]
fn KeysTable(
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
                    <td>
                        <strong data-testid="key-name">{key.name.clone()}</strong>
                        {(!key.description.is_empty()).then(|| view! { <div class="muted small">{key.description.clone()}</div> })}
                    </td>
                    <td><code data-testid="key-prefix">{key.masked_key.clone()}</code></td>
                    <td class="scopes" data-testid="key-scopes">{scope_chips(key.scopes.as_deref())}</td>
                    <td data-testid="key-mode"><span class=format!("badge mode-{}", key.mode.as_str())>{key.mode.as_str()}</span></td>
                    <td><span data-testid="key-status" class=format!("status status-{status}")>{status}</span></td>
                    <td class="time" title=format_time(&key.created_at)>
                        <div data-testid="key-created">{format_day(&key.created_at)}</div>
                        <div class="muted small">"by " <span data-testid="key-creator">{key.created_by.clone()}</span></div>
                    </td>
                    <td class="time" data-testid="key-last-used">{last_used_text(&key)}</td>
                    <td class="time" data-testid="key-expires" title=expiry_text(&key)>
                        {key.expires_at.as_ref().map_or_else(|| "Never".to_owned(), format_day)}
                        {item.expiring_soon.then(|| view! { <span class="flag expiring" data-testid="expires-soon">"Expires soon"</span> })}
                    </td>
                    <td data-testid="key-usage" class="usage">
                        "24h: " <span data-testid="key-successes">{item.successes_24h}</span> " ok / "
                        <span data-testid="key-failures" class:has-failures={item.failures_24h > 0}>{item.failures_24h}</span> " failed"
                    </td>
                    <td>
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
            <table class="keys-table" data-testid="keys-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Key"</th>
                        <th scope="col">"Scopes"</th>
                        <th scope="col">"Mode"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Requests"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The scope picker (SPEC K-2): one row per area with a checkbox per access, "Select
/// all", and scopes typed one per line.
#[component]
fn ScopePicker(
    catalog: Arc<ScopeCatalog>,
    ticked: RwSignal<Vec<String>>,
    typed: RwSignal<String>,
    /// Keeps ids unique between the create and edit forms.
    id_prefix: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let every_scope = StoredValue::new(
        catalog
            .areas
            .iter()
            .flat_map(|area| area.scopes())
            .collect::<Vec<_>>(),
    );
    let all_ticked = move || {
        every_scope.with_value(|every| {
            ticked.with(|ticked| every.iter().all(|scope| ticked.contains(scope)))
        })
    };
    let select_all_id = format!("{id_prefix}-select-all");
    let typed_id = format!("{id_prefix}-typed-scopes");
    let areas = catalog
        .areas
        .iter()
        .map(|area| {
            let choices = area
                .access
                .iter()
                .map(|access| {
                    let scope = format!("{}:{access}", area.id);
                    let id = format!("{id_prefix}-scope-{}-{access}", area.id);
                    let for_checked = scope.clone();
                    let for_change = scope.clone();
                    view! {
                        <span class="scope-choice">
                            <input type="checkbox" id=id.clone() value=scope
                                prop:checked=move || ticked.with(|ticked| ticked.contains(&for_checked))
                                on:change=move |event| {
                                    let checked = event_target_checked(&event);
                                    ticked.update(|ticked| {
                                        ticked.retain(|scope| scope != &for_change);
                                        if checked {
                                            ticked.push(for_change.clone());
                                        }
                                    });
                                } />
                            <label for=id>
                                <span class="visually-hidden">{area.label.clone()} " "</span>
                                {access.clone()}
                            </label>
                        </span>
                    }
                })
                .collect_view();
            view! {
                <tr data-testid="scope-area" data-area=area.id.clone()>
                    <th scope="row">{area.label.clone()}</th>
                    <td>{choices}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <fieldset class="scope-picker" data-testid="scope-picker">
            <legend>"Scopes"</legend>
            <div class="select-all">
                <input type="checkbox" id=select_all_id.clone()
                    prop:checked=all_ticked
                    on:change=move |event| {
                        if event_target_checked(&event) {
                            ticked.set(every_scope.get_value());
                        } else {
                            ticked.set(Vec::new());
                        }
                    } />
                <label for=select_all_id>"Select all"</label>
            </div>
            <table class="scope-table">
                <tbody>{areas}</tbody>
            </table>
            <label for=typed_id.clone()>"Or type scopes, one per line"</label>
            <textarea id=typed_id bind:value=typed rows="3" placeholder="payment_intents:read"></textarea>
            <p class="field-error" data-field="scopes">{move || error.get()}</p>
        </fieldset>
    }
    .into_any()
}

#[component]
fn CreateDialog(
    catalog: Arc<ScopeCatalog>,
    app_id: AppId,
    app_name: String,
    form: CreateForm,
    create: Action<ApiKeyInput, Answer<CreatedApiKey>>,
) -> impl IntoView {
    let every_scope: Vec<String> = catalog
        .areas
        .iter()
        .flat_map(|area| area.scopes())
        .collect();
    let error = move || create.value().get().and_then(Result::err);
    let field_error =
        move |field: &'static str| move || error().and_then(|error| error.field(field));
    let general_error = move || {
        error()
            .filter(|error| error.0.details.fields.is_empty())
            .map(|error| error.to_string())
    };
    let expiry_error = move || {
        form.expiry_error
            .get()
            .or_else(|| error().and_then(|error| error.field("expiry_days")))
    };
    let close = move || form.open.set(false);
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let days = match chosen_expiry_days(
            &form.expiry.get_untracked(),
            &form.custom_days.get_untracked(),
        ) {
            Ok(days) => days,
            Err(message) => {
                form.expiry_error.set(Some(message));
                return;
            }
        };
        form.expiry_error.set(None);
        let key_type = form.key_type.get_untracked();
        let scopes = match key_type {
            KeyType::Secret => Vec::new(),
            KeyType::Restricted => merge_scopes(
                &every_scope,
                &form.ticked.get_untracked(),
                &form.typed.get_untracked(),
            ),
        };
        create.dispatch(ApiKeyInput {
            app_id: app_id.clone(),
            name: form.name.get_untracked(),
            description: form.description.get_untracked(),
            mode: form.mode.get_untracked(),
            key_type,
            scopes,
            expires_at: days.and_then(|days| expires_at(now_ms(), days)),
            expiry_days: days,
        });
    };
    let radio = move |group: &'static str,
                      id: &'static str,
                      label: &'static str,
                      hint: &'static str,
                      checked: Signal<bool>,
                      choose: Callback<()>| {
        view! {
            <div class="choice">
                <input type="radio" name=group id=id prop:checked=checked on:change=move |_| choose.run(()) />
                <label for=id>{label}</label>
                <span class="muted small">{hint}</span>
            </div>
        }
    };
    let picker = move || {
        (form.key_type.get() == KeyType::Restricted).then(|| {
            view! {
                <ScopePicker
                    catalog=catalog.clone()
                    ticked=form.ticked
                    typed=form.typed
                    id_prefix="create"
                    error=Signal::derive(field_error("scopes"))
                />
            }
        })
    };
    view! {
        <div class="modal-backdrop">
            <div class="modal card" role="dialog" aria-modal="true" aria-labelledby="create-key-title"
                data-testid="create-key-dialog" on:keydown=on_escape(close)>
                <form on:submit=on_submit novalidate>
                    <h2 id="create-key-title">"Create API key"</h2>
                    <p class="muted small">"For " {app_name}</p>
                    <label for="key-name">"Name"</label>
                    <input id="key-name" name="name" bind:value=form.name required autofocus
                        placeholder="Production integration" />
                    <p class="field-error" data-field="name">{field_error("name")}</p>
                    <label for="key-description">"Description"</label>
                    <textarea id="key-description" name="description" bind:value=form.description rows="2"
                        placeholder="What the key is for (optional)"></textarea>
                    <p class="field-error" data-field="description">{field_error("description")}</p>
                    <fieldset class="choices">
                        <legend>"Mode"</legend>
                        {radio("mode", "key-mode-live", "Live", "Works on live data.",
                            Signal::derive(move || form.mode.get() == KeyMode::Live),
                            Callback::new(move |()| form.mode.set(KeyMode::Live)))}
                        {radio("mode", "key-mode-test", "Test", "Works only on the app's test data.",
                            Signal::derive(move || form.mode.get() == KeyMode::Test),
                            Callback::new(move |()| form.mode.set(KeyMode::Test)))}
                        <p class="field-error" data-field="mode">{field_error("mode")}</p>
                    </fieldset>
                    <fieldset class="choices">
                        <legend>"Key type"</legend>
                        {radio("key_type", "key-type-secret", "Full access", "A secret key that can call every route.",
                            Signal::derive(move || form.key_type.get() == KeyType::Secret),
                            Callback::new(move |()| form.key_type.set(KeyType::Secret)))}
                        {radio("key_type", "key-type-restricted", "Restricted", "Only the scopes you choose.",
                            Signal::derive(move || form.key_type.get() == KeyType::Restricted),
                            Callback::new(move |()| form.key_type.set(KeyType::Restricted)))}
                    </fieldset>
                    {picker}
                    {move || (form.key_type.get() == KeyType::Secret).then(|| view! {
                        <p class="field-error" data-field="scopes">{field_error("scopes")}</p>
                    })}
                    <label for="key-expiry">"Expiration"</label>
                    <select id="key-expiry" name="expiry" on:change=move |event| {
                        form.expiry.set(event_target_value(&event));
                        form.expiry_error.set(None);
                    }>
                        {EXPIRY_CHOICES.iter().map(|(value, label)| view! {
                            <option value=*value prop:selected=move || form.expiry.get() == *value>{*label}</option>
                        }).collect_view()}
                    </select>
                    {move || (form.expiry.get() == "custom").then(|| view! {
                        <label for="key-expiry-days">"Number of days"</label>
                        <input id="key-expiry-days" name="expiry_days" type="number" min="1" step="1"
                            bind:value=form.custom_days />
                    })}
                    <p class="field-error" data-field="expiry_days">{expiry_error}</p>
                    <p class="field-error" data-field="expires_at">{field_error("expires_at")}</p>
                    <p class="error" role="alert">{general_error}</p>
                    <div class="form-actions">
                        <button type="submit" disabled=move || create.pending().get()>"Create key"</button>
                        <button type="button" class="secondary" on:click=move |_| close()>"Cancel"</button>
                    </div>
                </form>
            </div>
        </div>
    }
    .into_any()
}

/// The "Save your API key" step (SPEC K-3): the plaintext, a copy button and the warning.
#[component]
fn SecretDialog(shown: OneTimeSecret, secret: RwSignal<Option<OneTimeSecret>>) -> impl IntoView {
    let copy_state = RwSignal::new(CopyState::Idle);
    let close = move || secret.set(None);
    let copy = move |_| {
        let plaintext =
            secret.with_untracked(|shown| shown.as_ref().map(|shown| shown.plaintext.clone()));
        #[cfg(feature = "hydrate")]
        if let Some(plaintext) = plaintext {
            leptos::task::spawn_local(async move {
                let Some(window) = web_sys::window() else {
                    copy_state.set(CopyState::Failed);
                    return;
                };
                let promise = window.navigator().clipboard().write_text(&plaintext);
                let copied = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
                copy_state.set(if copied {
                    CopyState::Copied
                } else {
                    CopyState::Failed
                });
            });
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = plaintext;
        }
    };
    view! {
        <div class="modal-backdrop">
            <div class="modal card secret-dialog" role="dialog" aria-modal="true" aria-labelledby="secret-title"
                aria-describedby="secret-warning" data-testid="secret-dialog" on:keydown=on_escape(close)>
                <h2 id="secret-title">"Save your API key"</h2>
                <p>{shown.key_name} " · " {mode_label(shown.mode)}</p>
                <div class="secret-box">
                    <code data-testid="new-key-plaintext">{shown.plaintext}</code>
                    <button type="button" data-testid="copy-key" on:click=copy>
                        {move || match copy_state.get() {
                            CopyState::Copied => "Copied",
                            CopyState::Idle | CopyState::Failed => "Copy",
                        }}
                    </button>
                </div>
                <p class="error" role="alert">
                    {move || (copy_state.get() == CopyState::Failed)
                        .then_some("Copying failed. Select the key and copy it by hand.")}
                </p>
                <p id="secret-warning" class="warning" data-testid="one-time-warning">{ONE_TIME_WARNING}</p>
                {shown.note.map(|note| view! { <p class="muted" data-testid="rotation-note">{note}</p> })}
                <div class="form-actions">
                    <button type="button" autofocus on:click=move |_| close()>"Done"</button>
                </div>
            </div>
        </div>
    }
    .into_any()
}

/// A key's detail (SPEC K-6..K-9): id, history, edit, status, rotate, duplicate.
#[component]
fn KeyDetail(
    item: ApiKeyListItem,
    catalog: Arc<ScopeCatalog>,
    actions: KeyActions,
    detail: Detail,
) -> impl IntoView {
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
    let busy = move || actions.busy();

    let update_error = move || actions.update.value().get().and_then(Result::err);
    let field_error =
        move |field: &'static str| move || update_error().and_then(|error| error.field(field));
    let update_general = move || {
        update_error()
            .filter(|error| error.0.details.fields.is_empty())
            .map(|error| error.to_string())
    };
    let on_save = {
        let key_id = key.id.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            detail.error.set(None);
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
                    error=Signal::derive(field_error("scopes"))
                />
            }
        });
        view! {
            <form class="edit-key" data-testid="edit-key-form" on:submit=on_save novalidate>
                <h3>"Edit"</h3>
                <label for="edit-key-name">"Name"</label>
                <input id="edit-key-name" name="name" bind:value=detail.edit.name required />
                <p class="field-error" data-field="name">{field_error("name")}</p>
                <label for="edit-key-description">"Description"</label>
                <textarea id="edit-key-description" name="description" bind:value=detail.edit.description rows="2"></textarea>
                <p class="field-error" data-field="description">{field_error("description")}</p>
                {picker}
                <p class="error" role="alert">{update_general}</p>
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

    let for_duplicate = key.id.clone();
    let confirm = {
        let key_id = key.id.clone();
        let key_name = key.name.clone();
        move || {
            let key_id = key_id.clone();
            detail.confirming_revoke.get().then(|| view! {
                <div class="modal-backdrop confirm">
                    <div class="modal card" role="alertdialog" aria-modal="true" aria-labelledby="revoke-title"
                        aria-describedby="revoke-text" data-testid="revoke-dialog"
                        on:keydown=on_escape(move || detail.confirming_revoke.set(false))>
                        <h2 id="revoke-title">"Revoke " {key_name.clone()} "?"</h2>
                        <p id="revoke-text">"Revocation is permanent and cannot be undone. The key stops working from the very next request and stays in the list as revoked. Create a new key if a service needs to reconnect."</p>
                        <div class="form-actions">
                            <button type="button" class="danger" disabled=busy
                                on:click=move |_| { actions.revoke.dispatch(key_id.clone()); }>"Revoke key"</button>
                            <button type="button" class="secondary" autofocus
                                on:click=move |_| detail.confirming_revoke.set(false)>"Cancel"</button>
                        </div>
                    </div>
                </div>
            }.into_any())
        }
    };

    view! {
        <div class="modal-backdrop">
            <div class="modal card key-detail" role="dialog" aria-modal="true" aria-labelledby="key-detail-title"
                data-testid="key-detail" data-key-id=key.id.to_string() on:keydown=on_escape(close)>
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
                    <dt>"Last used"</dt><dd>{last_used_text(&key)}</dd>
                </dl>
                <section aria-labelledby="key-history-title">
                    <h3 id="key-history-title">"History"</h3>
                    <ul class="history" data-testid="key-history">
                        <li>"Created by " {key.created_by.clone()} " on " {format_time(&key.created_at)}</li>
                        <li>"Last changed by " {key.updated_by.clone()} " on " {format_time(&key.updated_at)}</li>
                    </ul>
                </section>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_choices_read_as_days() {
        assert_eq!(chosen_expiry_days("30", ""), Ok(Some(30)));
        assert_eq!(chosen_expiry_days("never", "12"), Ok(None));
        assert_eq!(chosen_expiry_days("custom", " 45 "), Ok(Some(45)));
        assert!(chosen_expiry_days("custom", "soon").is_err());
        // The range is the server's to judge.
        assert_eq!(chosen_expiry_days("custom", "0"), Ok(Some(0)));
    }

    #[test]
    fn expires_at_adds_whole_days() {
        let now = 1_700_000_000_000;
        let at = expires_at(now, 30).expect("fits");
        assert_eq!(at.timestamp_millis(), now + 30 * 86_400_000);
        assert_eq!(expires_at(now, i64::MAX), None);
    }

    #[test]
    fn scopes_merge_ticked_in_catalog_order_then_typed() {
        let catalog = vec![
            "apps:read".to_owned(),
            "apps:write".to_owned(),
            "api_keys:read".to_owned(),
        ];
        let ticked = vec!["api_keys:read".to_owned(), "apps:read".to_owned()];
        assert_eq!(
            merge_scopes(&catalog, &ticked, "  exports:read \n\napps:read\n"),
            vec!["apps:read", "api_keys:read", "exports:read"]
        );
    }

    #[test]
    fn scopes_label_says_full_access_for_none() {
        assert_eq!(scopes_label(None), "Full access");
        assert_eq!(
            scopes_label(Some(&["apps:read".to_owned(), "usage:read".to_owned()])),
            "apps:read, usage:read"
        );
    }
}
