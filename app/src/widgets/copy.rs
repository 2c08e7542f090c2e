//! A button that copies a text to the clipboard and says how it went, on itself
//! ("Copied", "Copy failed") and to screen readers.

use leptos::prelude::*;

/// Where a copy stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum CopyState {
    Idle,
    Copied,
    Failed,
}

/// Copies `text`; `state` tells the caller (and the button) how it went. `what` names
/// the text for the failure message ("the key").
#[component]
pub fn CopyButton(
    text: String,
    state: RwSignal<CopyState>,
    what: &'static str,
    #[prop(optional)] test_id: Option<&'static str>,
    /// Read by screen readers in place of "Copy" ("Copy the request id").
    #[prop(optional)]
    label: Option<&'static str>,
) -> impl IntoView {
    let text = StoredValue::new(text);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let text = text.get_value();
            leptos::task::spawn_local(async move {
                let Some(window) = web_sys::window() else {
                    state.set(CopyState::Failed);
                    return;
                };
                let promise = window.navigator().clipboard().write_text(&text);
                let copied = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
                state.set(if copied {
                    CopyState::Copied
                } else {
                    CopyState::Failed
                });
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = text;
    };
    view! {
        <button type="button" class="copy" data-testid=test_id aria-label=label on:click=copy>
            {move || match state.get() {
                CopyState::Copied => "Copied",
                CopyState::Failed => "Copy failed",
                CopyState::Idle => "Copy",
            }}
        </button>
        // Screen readers hear how it went; sighted users see it on the button.
        <span class="visually-hidden" role="status" data-testid="copy-status">
            {move || match state.get() {
                CopyState::Copied => Some("Copied to the clipboard.".to_owned()),
                CopyState::Failed => Some(format!("Copying failed. Select {what} and copy it by hand.")),
                CopyState::Idle => None,
            }}
        </span>
    }
}
