//! The Apps tab: the tenant's apps with the selected one marked, selecting an app, and
//! the form that creates or edits an app.

use gatehouse_model::{AppId, AppInput};
use leptos::prelude::*;

use crate::server_fns::{create_app, load_apps, select_app, update_app};
use crate::widgets::field_errors::FieldErrors;
use crate::widgets::ui::show_error;

/// Splits the origins textarea into one origin per line.
use crate::widgets::ui::non_blank_lines as origin_lines;

#[component]
pub fn AppsTab() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let apps = Resource::new(move || version.get(), |_| load_apps());
    let editing = RwSignal::new(None::<AppId>);
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let origins = RwSignal::new(String::new());
    let notice = crate::widgets::ui::passing_notice();

    let save = Action::new(move |(app_id, input): &(Option<AppId>, AppInput)| {
        let (app_id, input) = (app_id.clone(), input.clone());
        async move {
            match app_id {
                Some(app_id) => update_app(app_id, input).await,
                None => create_app(input).await,
            }
        }
    });
    let select = Action::new(|app_id: &AppId| select_app(app_id.clone()));
    let reset_form = move || {
        editing.set(None);
        name.set(String::new());
        description.set(String::new());
        origins.set(String::new());
    };
    Effect::new(move |_| {
        if let Some(Ok(app)) = save.value().get() {
            notice.set(Some(format!("Saved {}.", app.name)));
            reset_form();
            version.update(|value| *value += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(app)) = select.value().get() {
            notice.set(Some(format!("{} is now the selected app.", app.name)));
            version.update(|value| *value += 1);
        }
    });
    let errors = FieldErrors::of(save);
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        notice.set(None);
        let input = AppInput {
            name: name.get_untracked(),
            description: description.get_untracked(),
            allowed_origins: origin_lines(&origins.get_untracked()),
        };
        save.dispatch((editing.get_untracked(), input));
    };

    view! {
        <div class="two-columns">
            <div>
                <h2>"Apps"</h2>
                <p class="notice" role="status">{move || notice.get()}</p>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match apps.await {
                            Ok(page) if page.apps.is_empty() => view! {
                                <div class="empty-state"><p>"No apps yet. Create the first one with the form."</p></div>
                            }.into_any(),
                            Ok(page) => view! {
                                <ul class="app-list">
                                    {page.apps.into_iter().map(|app| {
                                        let is_selected = page.selected_app_id.as_ref() == Some(&app.id);
                                        let for_select = app.id.clone();
                                        let for_edit = app.clone();
                                        view! {
                                            <li class="app-row" class:selected=is_selected data-app-id=app.id.to_string()>
                                                <div>
                                                    <strong class="app-name">{app.name.clone()}</strong>
                                                    {is_selected.then(|| view! { <span class="badge">"Selected"</span> })}
                                                    <p class="muted">{app.description.clone()}</p>
                                                    <p class="muted small">"Browser origins: "
                                                        {if app.allowed_origins.is_empty() { "none (calls from servers only)".to_owned() } else { app.allowed_origins.join(", ") }}</p>
                                                    <p class="muted small">"App ID " <code class="id">{app.id.to_string()}</code></p>
                                                </div>
                                                <div class="row-actions">
                                                    <button type="button" disabled=is_selected
                                                        on:click=move |_| { select.dispatch(for_select.clone()); }>"Select"</button>
                                                    <button type="button" on:click=move |_| {
                                                        editing.set(Some(for_edit.id.clone()));
                                                        name.set(for_edit.name.clone());
                                                        description.set(for_edit.description.clone());
                                                        origins.set(for_edit.allowed_origins.join("\n"));
                                                        notice.set(None);
                                                    }>"Edit"</button>
                                                </div>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(error) => show_error(error, move || apps.refetch()),
                        }
                    })}
                </Transition>
            </div>
            <form class="card app-form" on:submit=on_submit novalidate>
                <h2>{move || if editing.get().is_some() { "Edit app" } else { "Create app" }}</h2>
                <label for="app-name">"Name"</label>
                <input id="app-name" name="name" bind:value=name placeholder="Production integration" />
                <p class="field-error" data-field="name">{errors.field("name")}</p>
                <label for="app-description">"Description"</label>
                <textarea id="app-description" name="description" bind:value=description rows="2"></textarea>
                <p class="field-error" data-field="description">{errors.field("description")}</p>
                <label for="app-origins">"Allowed browser origins (one per line)"</label>
                <textarea id="app-origins" name="allowed_origins" bind:value=origins rows="3"
                    placeholder="https://app.example.com"></textarea>
                <p class="field-error" data-field="allowed_origins">{errors.field("allowed_origins")}</p>
                <p class="error" role="alert">{move || errors.general()}</p>
                <div class="form-actions">
                    <button type="submit" disabled=move || save.pending().get()>
                        {move || if editing.get().is_some() { "Save changes" } else { "Create app" }}
                    </button>
                    {move || editing.get().is_some().then(|| view! {
                        <button type="button" class="secondary" on:click=move |_| reset_form()>"Cancel"</button>
                    })}
                </div>
            </form>
        </div>
    }
}
