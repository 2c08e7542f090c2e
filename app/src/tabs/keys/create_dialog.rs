//! The "Create API key" dialog: name, description, mode, key type, scopes, expiry and
//! an optional rate limit,
//! gathered into one create request for the server to judge.

use std::sync::Arc;

use gatehouse_model::{ApiKeyInput, AppId, CreatedApiKey, KeyMode, KeyType, ScopeCatalog};
use leptos::prelude::*;

use super::rate_limit::RateLimitField;
use super::scope_picker::ScopePicker;
use super::state::{Answer, CreateForm, chosen_expiry_days, dialog_keys, merge_scopes};
use crate::widgets::field_errors::FieldErrors;

/// The expiry choices of the create dialog: (value, label).
const EXPIRY_CHOICES: &[(&str, &str)] = &[
    ("30", "30 days"),
    ("60", "60 days"),
    ("90", "90 days"),
    ("custom", "Custom number of days"),
    ("never", "Never"),
];

#[component]
pub(super) fn CreateDialog(
    catalog: Arc<ScopeCatalog>,
    app_id: AppId,
    app_name: String,
    form: CreateForm,
    create: Action<ApiKeyInput, Answer<CreatedApiKey>>,
) -> impl IntoView {
    crate::widgets::dialog::dialog_focus();
    let every_scope: Vec<String> = catalog
        .areas
        .iter()
        .flat_map(|area| area.scopes())
        .collect();
    let errors = FieldErrors::of(create);
    let form_element = NodeRef::<leptos::html::Form>::new();
    errors.focus_first_in(form_element);
    let scopes_error = errors.field("scopes");
    let server_expiry_error = errors.field("expiry_days");
    let expiry_error = move || {
        form.expiry_error
            .get()
            .or_else(|| server_expiry_error.get())
    };
    let close = move || form.open.set(false);
    // Escape on a form with something typed or ticked asks first; a second one discards.
    let entered = move || {
        !form.name.get_untracked().trim().is_empty()
            || !form.description.get_untracked().trim().is_empty()
            || !form.typed.get_untracked().trim().is_empty()
            || !form.ticked.with_untracked(Vec::is_empty)
    };
    let asked_to_discard = RwSignal::new(false);
    let escape = move || {
        if entered() && !asked_to_discard.get_untracked() {
            asked_to_discard.set(true);
        } else {
            close();
        }
    };
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
        let Ok(rate_limit) = form.rate_limit.chosen() else {
            return;
        };
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
            app_id: Some(app_id.clone()),
            name: form.name.get_untracked(),
            description: form.description.get_untracked(),
            mode: form.mode.get_untracked(),
            key_type,
            scopes,
            // The server sets the expiry from the days chosen: one clock for all.
            expires_at: None,
            expiry_days: days,
            rate_limit,
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
                    error=scopes_error
                    suggest=true
                />
            }
        })
    };
    view! {
        <div class="modal-backdrop">
            <div class="modal card" role="dialog" aria-modal="true" aria-labelledby="create-key-title"
                data-testid="create-key-dialog" on:keydown=dialog_keys(escape)>
                <form node_ref=form_element on:submit=on_submit novalidate>
                    <h2 id="create-key-title">"Create API key"</h2>
                    <p class="muted small">"For " {app_name}</p>
                    <label for="key-name">"Name"</label>
                    <input id="key-name" name="name" bind:value=form.name required autofocus
                        placeholder="Production integration" />
                    <p class="field-error" data-field="name">{errors.field("name")}</p>
                    <label for="key-description">"Description"</label>
                    <textarea id="key-description" name="description" bind:value=form.description rows="2"
                        placeholder="What the key is for (optional)"></textarea>
                    <p class="field-error" data-field="description">{errors.field("description")}</p>
                    <fieldset class="choices">
                        <legend>"Mode"</legend>
                        {radio("mode", "key-mode-live", "Live", "Works on live data.",
                            Signal::derive(move || form.mode.get() == KeyMode::Live),
                            Callback::new(move |()| form.mode.set(KeyMode::Live)))}
                        {radio("mode", "key-mode-test", "Test", "Works only on the app's test data.",
                            Signal::derive(move || form.mode.get() == KeyMode::Test),
                            Callback::new(move |()| form.mode.set(KeyMode::Test)))}
                        <p class="field-error" data-field="mode">{errors.field("mode")}</p>
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
                        <p class="field-error" data-field="scopes">{scopes_error}</p>
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
                    <p class="field-error" data-field="expires_at">{errors.field("expires_at")}</p>
                    <RateLimitField input=form.rate_limit id_prefix="create"
                        server_error=errors.field("rate_limit") />
                    <p class="error" role="alert">{move || errors.general()}</p>
                    <p class="error" role="alert" data-testid="discard-warning">
                        {move || asked_to_discard.get().then_some("Discard what you entered? Press Escape again to discard it, or Cancel.")}
                    </p>
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
