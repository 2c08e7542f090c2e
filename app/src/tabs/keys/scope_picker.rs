//! The scope picker the create dialog and the key detail's edit form share: the catalog's
//! scopes as checkboxes, "Select all", and scopes typed one per line. A new key starts
//! with nothing ticked: the catalog's default pre-selection is offered as a suggestion
//! to take with one click, never ticked behind the person's back.

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
    /// Offer the catalog's default pre-selection (a new key).
    #[prop(optional)]
    suggest: bool,
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
                .enumerate()
                .map(|(index, access)| {
                    let scope = format!("{}:{access}", area.id);
                    let id = format!("{id_prefix}-scope-{}-{access}", area.id);
                    let for_checked = scope.clone();
                    let for_change = scope.clone();
                    view! {
                        <span class="scope-choice">
                            // One Tab stop per area: its first access; the arrow keys
                            // move between the others (see `arrow_keys`).
                            <input type="checkbox" id=id.clone() value=scope
                                tabindex=if index == 0 { "0" } else { "-1" }
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
                    <td on:keydown=arrow_keys>{choices}</td>
                </tr>
            }
        })
        .collect_view();
    let suggestion = (suggest && !catalog.default_scopes.is_empty()).then(|| {
        let suggested = catalog.default_scopes.clone();
        let names = suggested
            .iter()
            .enumerate()
            .map(|(index, scope)| view! { {(index > 0).then_some(", ")}<code>{scope.clone()}</code> })
            .collect_view();
        view! {
            <p class="suggestion" data-testid="scope-suggestion">
                "Suggested by this workspace's catalog: " {names} ". "
                <button type="button" class="link"
                    on:click=move |_| ticked.update(|ticked| {
                        for scope in &suggested {
                            if !ticked.contains(scope) {
                                ticked.push(scope.clone());
                            }
                        }
                    })>"Use the suggestion"</button>
            </p>
        }
    });
    view! {
        <fieldset class="scope-picker" data-testid="scope-picker">
            <legend>"Scopes"</legend>
            {suggest.then(|| view! {
                <p class="muted small">"Nothing is ticked until you choose: give the key only what its program calls."</p>
            })}
            {suggestion}
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

/// Left and Right move focus between an area's accesses, Up and Down to the same access
/// of the area above or below (the picker is one Tab stop per area).
fn arrow_keys(event: leptos::ev::KeyboardEvent) {
    let (across, down) = match event.key().as_str() {
        "ArrowLeft" => (-1, 0),
        "ArrowRight" => (1, 0),
        "ArrowUp" => (0, -1),
        "ArrowDown" => (0, 1),
        _ => return,
    };
    event.prevent_default();
    #[cfg(not(feature = "hydrate"))]
    let _ = (across, down);
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(cell) = event
            .current_target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let Some(table) = cell.closest("tbody").ok().flatten() else {
            return;
        };
        let boxes_of = |row: &web_sys::Element| -> Vec<web_sys::HtmlElement> {
            row.query_selector_all("input[type=checkbox]")
                .map(|found| {
                    (0..found.length())
                        .filter_map(|index| found.item(index))
                        .filter_map(|node| node.dyn_into::<web_sys::HtmlElement>().ok())
                        .collect()
                })
                .unwrap_or_default()
        };
        let rows: Vec<web_sys::Element> = table
            .query_selector_all("tr")
            .map(|found| {
                (0..found.length())
                    .filter_map(|index| found.item(index))
                    .filter_map(|node| node.dyn_into::<web_sys::Element>().ok())
                    .collect()
            })
            .unwrap_or_default();
        let active = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.active_element());
        let Some(row_index) = rows
            .iter()
            .position(|row| row.contains(active.as_ref().map(|active| active.unchecked_ref())))
        else {
            return;
        };
        let here = boxes_of(&rows[row_index]);
        let Some(column) = here.iter().position(|checkbox| {
            active
                .as_ref()
                .is_some_and(|active| active == checkbox.unchecked_ref::<web_sys::Element>())
        }) else {
            return;
        };
        let target = if down == 0 {
            let next = column as i32 + across;
            (0..here.len() as i32)
                .contains(&next)
                .then(|| here[next as usize].clone())
        } else {
            let next_row = row_index as i32 + down;
            (0..rows.len() as i32)
                .contains(&next_row)
                .then(|| {
                    let there = boxes_of(&rows[next_row as usize]);
                    there
                        .get(column.min(there.len().saturating_sub(1)))
                        .cloned()
                })
                .flatten()
        };
        if let Some(target) = target {
            let _ = target.focus();
        }
    }
}
