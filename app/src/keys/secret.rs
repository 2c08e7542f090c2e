//! The one-time "Save your API key" step: the plaintext of a key just created, rotated
//! or duplicated, a button that copies it, and the warning that it is shown only once.

use gatehouse_model::{CreatedApiKey, KeyMode};
use leptos::prelude::*;

use super::state::{mode_label, on_escape};

/// The warning of the one-time secret step (SPEC K-3), word for word.
pub const ONE_TIME_WARNING: &str = "This key will only be shown once. Copy it now and store it securely. After closing this dialog, only the prefix is visible.";

/// A plaintext key on its way to the one-time dialog, and what to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OneTimeSecret {
    key_name: String,
    mode: KeyMode,
    plaintext: String,
    note: Option<&'static str>,
}

impl OneTimeSecret {
    pub(super) fn new(created: CreatedApiKey, note: Option<&'static str>) -> Self {
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

/// The "Save your API key" step (SPEC K-3): the plaintext, a copy button and the warning.
#[component]
pub(super) fn SecretDialog(
    shown: OneTimeSecret,
    secret: RwSignal<Option<OneTimeSecret>>,
) -> impl IntoView {
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
