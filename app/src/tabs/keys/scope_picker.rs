//! The scope picker the create dialog and the key detail's edit form share: the catalog's
//! scopes as checkboxes, "Select all", and scopes typed one per line.

use std::sync::Arc;

use gatehouse_model::ScopeCatalog;
use leptos::prelude::*;

/// The scope picker: one row per area with a checkbox per access, "Select
/// all", and scopes typed one per line.
#[component]
pub(super) fn ScopePicker(
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
