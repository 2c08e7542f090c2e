//! The one-time secret step, shared by API keys and webhook endpoints: the plaintext
//! of a secret just created or rotated, a button that copies it, and the warning that
//! it is shown only once.

use gatehouse_model::{CreatedApiKey, CreatedEndpoint, KeyMode};
use leptos::prelude::*;

use crate::widgets::copy::{CopyButton, CopyState};
use crate::widgets::dialog::dialog_keys;
use crate::widgets::ui::mode_label;

/// The warning of the one-time API key step. Its wording is fixed: the end-to-end test
/// of the keys tab expects it word for word.
pub const ONE_TIME_WARNING: &str = "This key will only be shown once. Copy it now and store it securely. After closing this dialog, only the prefix is visible.";

/// The warning of the one-time signing secret step.
pub const SIGNING_SECRET_WARNING: &str = "This signing secret will only be shown once. Copy it now and store it in your receiver's configuration. After closing this dialog, only its first characters are visible.";

/// A plaintext secret on its way to the one-time dialog, and what to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeSecret {
    title: &'static str,
    subject: String,
    mode: KeyMode,
    plaintext: String,
    warning: &'static str,
    note: Option<&'static str>,
    /// The secret as a sentence names it ("the key").
    what: &'static str,
}

impl OneTimeSecret {
    /// A key's secret (created, rotated or duplicated).
    pub fn api_key(created: CreatedApiKey, note: Option<&'static str>) -> Self {
        Self {
            title: "Save your API key",
            subject: created.key.name,
            mode: created.key.mode,
            plaintext: created.plaintext,
            warning: ONE_TIME_WARNING,
            note,
            what: "the key",
        }
    }

    /// An endpoint's signing secret (created or rotated).
    pub fn signing_secret(created: CreatedEndpoint, note: Option<&'static str>) -> Self {
        Self {
            title: "Save your signing secret",
            subject: created.endpoint.url,
            mode: created.endpoint.mode,
            plaintext: created.secret,
            warning: SIGNING_SECRET_WARNING,
            note,
            what: "the signing secret",
        }
    }
}

/// The one-time step: the plaintext, a copy button and the warning. Escape before the
/// secret was copied asks first (it cannot be shown again); "Done" closes.
#[component]
pub fn SecretDialog(
    shown: OneTimeSecret,
    secret: RwSignal<Option<OneTimeSecret>>,
) -> impl IntoView {
    crate::widgets::dialog::dialog_focus();
    let copy_state = RwSignal::new(CopyState::Idle);
    let asked = RwSignal::new(false);
    let close = move || secret.set(None);
    let escape = move || {
        if copy_state.get_untracked() == CopyState::Copied || asked.get_untracked() {
            close();
        } else {
            asked.set(true);
        }
    };
    let what = shown.what;
    view! {
        <div class="modal-backdrop">
            <div class="modal card secret-dialog" role="dialog" aria-modal="true" aria-labelledby="secret-title"
                aria-describedby="secret-warning" data-testid="secret-dialog" on:keydown=dialog_keys(escape)>
                <h2 id="secret-title">{shown.title}</h2>
                <p>{shown.subject} " · " {mode_label(shown.mode)}</p>
                <div class="secret-box">
                    <code data-testid="one-time-plaintext">{shown.plaintext.clone()}</code>
                    <CopyButton text=shown.plaintext state=copy_state what test_id="copy-key" />
                </div>
                <p id="secret-warning" class="warning" data-testid="one-time-warning">{shown.warning}</p>
                {shown.note.map(|note| view! { <p class="muted" data-testid="rotation-note">{note}</p> })}
                <p class="error" role="alert" data-testid="not-copied">
                    {move || (asked.get() && copy_state.get() != CopyState::Copied).then(|| format!(
                        "Have you copied {what}? It cannot be shown again. Press Escape again or Done to close."
                    ))}
                </p>
                <div class="form-actions">
                    <button type="button" autofocus on:click=move |_| close()>"Done"</button>
                </div>
            </div>
        </div>
    }
    .into_any()
}
