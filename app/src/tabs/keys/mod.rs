//! The API keys tab: the selected app's keys, the create dialog with its
//! scope picker, the one-time "Save your API key" step, and each key's detail and actions.
//! Every rule (validation, statuses, what may change) is the server's; this module only
//! gathers input, calls the server functions and shows their answers.
//!
//! This file holds the tab's entry, [`ApiKeysTab`], which owns the tab's state and turns
//! each server answer into a notice or a one-time secret, and the body it shows for the
//! selected app. Each part of the tab has a module of its own below.

mod activity;
mod create_dialog;
mod detail;
mod rate_limit;
mod scope_picker;
mod state;
mod table;

use std::sync::Arc;

use gatehouse_model::{ApiKeyListItem, AppId, RotationOverlap, ScopeCatalog};
use leptos::prelude::*;

use crate::server_fns::load_api_keys;
use crate::widgets::one_time_secret::{OneTimeSecret, SecretDialog};
use crate::widgets::ui::{NoAppSelected, show_error};
use create_dialog::CreateDialog;
use detail::KeyDetail;
use state::{CreateForm, Detail, EditForm, KeyActions};
use table::KeysTable;

#[component]
pub fn ApiKeysTab() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let page = Resource::new(move || version.get(), |_| load_api_keys());
    let refetch = move || version.update(|value| *value += 1);
    let notice = crate::widgets::ui::passing_notice();
    let secret = RwSignal::new(None::<OneTimeSecret>);
    let form = CreateForm::new();
    let actions = KeyActions::new();
    // A key's name in Logs links here as `?key=<id>`: that key's detail opens, once.
    let linked_key = StoredValue::new(
        leptos_router::hooks::use_query_map().with_untracked(|query| query.get("key")),
    );
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
            secret.set(Some(OneTimeSecret::api_key(created, None)));
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
            secret.set(Some(OneTimeSecret::api_key(
                created,
                Some(overlap.consequence()),
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
            secret.set(Some(OneTimeSecret::api_key(created, None)));
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
                        None => view! { <NoAppSelected bound="API keys are always bound to an app." /> }.into_any(),
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
                                    linked_key
                                />
                            }.into_any()
                        }
                    },
                    Err(error) => show_error(error, move || page.refetch()),
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
    linked_key: StoredValue<Option<String>>,
) -> impl IntoView {
    // In the browser only: the detail is never rendered on the server.
    let listed = keys.clone();
    Effect::new(move |_| {
        if let Some(linked) = linked_key.try_update_value(Option::take).flatten()
            && let Some(item) = listed.iter().find(|item| item.key.id.as_str() == linked)
        {
            detail.managing.set(Some(item.key.id.clone()));
        }
    });
    let open_create = move || {
        form.reset();
        actions.create.value().set(None);
        notice.set(None);
        form.open.set(true);
    };
    let create_button = {
        move || {
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
        let catalog = catalog.clone();
        Some(view! {
            <Suspense fallback=|| ()>
                {Suspend::new(async move { key_detail_view(item, catalog, actions, detail).await })}
            </Suspense>
        })
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

/// A key's detail behind a split point of its own: its code (the edit form, the activity
/// chart, the request table) loads when a key is first opened, not with the tab.
#[leptos::lazy]
fn key_detail_view(
    item: ApiKeyListItem,
    catalog: Arc<ScopeCatalog>,
    actions: KeyActions,
    detail: Detail,
) -> AnyView {
    view! { <KeyDetail item catalog actions detail /> }.into_any()
}
