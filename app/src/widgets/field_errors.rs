//! How a refused answer's messages land in a form: each field's message beside its
//! field, and the one that names no field once for the form; focus moves to the first
//! field in error, so that its message is in sight. Every form reads its errors through
//! [`FieldErrors`] (the create and edit dialogs, the Apps form, the filter forms).

use leptos::prelude::*;

use crate::error::AppError;

/// What the form's own check found before asking the server: the field and its message.
pub type OwnError = RwSignal<Option<(&'static str, String)>>;

/// The messages of a form's last refused answer, by field.
#[derive(Clone, Copy)]
pub struct FieldErrors {
    failure: Signal<Option<AppError>>,
    own: Option<OwnError>,
}

impl FieldErrors {
    /// The messages of `failure`, the last error the server answered (none after a
    /// success).
    pub fn new(failure: impl Into<Signal<Option<AppError>>>) -> Self {
        Self {
            failure: failure.into(),
            own: None,
        }
    }

    /// The messages of `action`'s last answer, while it is a refusal.
    pub fn of<I, T>(action: Action<I, Result<T, AppError>>) -> Self
    where
        I: Send + Sync + 'static,
        T: Clone + Send + Sync + 'static,
    {
        Self::new(Signal::derive(move || {
            action.value().get().and_then(Result::err)
        }))
    }

    /// The same, with the form's own check first: a message it set for a field is shown
    /// instead of the server's.
    pub fn with_own(self, own: OwnError) -> Self {
        Self {
            own: Some(own),
            ..self
        }
    }

    /// The message to show beside `field`, if any.
    pub fn field(self, field: &'static str) -> Signal<Option<String>> {
        let Self { failure, own } = self;
        Signal::derive(move || {
            own.and_then(|own| {
                own.get()
                    .filter(|(named, _)| *named == field)
                    .map(|(_, message)| message)
            })
            .or_else(|| failure.get().and_then(|error| error.field(field)))
        })
    }

    /// After each refusal, moves focus to the first field of `form` whose message is
    /// shown (the first control of its fieldset, for a group of choices), or brings
    /// the form's general message into sight.
    pub fn focus_first_in(self, form: NodeRef<leptos::html::Form>) {
        let Self { failure, own } = self;
        Effect::new(move |_| {
            let refused =
                failure.with(Option::is_some) || own.is_some_and(|own| own.with(Option::is_some));
            if refused {
                focus_first_error_soon(form);
            }
        });
    }

    /// The message when the refusal names no field (field messages go beside their
    /// fields).
    pub fn general(self) -> Option<String> {
        self.failure
            .get()
            .filter(|error| error.0.details.fields.is_empty())
            .map(|error| error.to_string())
    }
}

/// Once the messages are on the page: focus the control before the first shown field
/// message (the first control of its fieldset when it is inside one); with none, scroll
/// the first shown general message into view.
#[cfg(feature = "hydrate")]
fn focus_first_error_soon(form: NodeRef<leptos::html::Form>) {
    use wasm_bindgen::JsCast;

    use crate::widgets::dialog::FOCUSABLE;
    let focus = move || {
        let Some(form) = form.get_untracked() else {
            return;
        };
        let shown = |element: &web_sys::Element| {
            element
                .text_content()
                .is_some_and(|text| !text.trim().is_empty())
        };
        let Ok(found) = form.query_selector_all(&format!("{FOCUSABLE}, .field-error, .error"))
        else {
            return;
        };
        let mut last_control: Option<web_sys::HtmlElement> = None;
        for index in 0..found.length() {
            let Some(element) = found
                .item(index)
                .and_then(|node| node.dyn_into::<web_sys::Element>().ok())
            else {
                continue;
            };
            let is_message = element.class_list().contains("field-error")
                || element.class_list().contains("error");
            if !is_message {
                last_control = element.dyn_into::<web_sys::HtmlElement>().ok();
                continue;
            }
            if !shown(&element) {
                continue;
            }
            let in_group = element
                .closest("fieldset")
                .ok()
                .flatten()
                .and_then(|group| group.query_selector(FOCUSABLE).ok().flatten())
                .and_then(|control| control.dyn_into::<web_sys::HtmlElement>().ok());
            match in_group.or_else(|| {
                element
                    .class_list()
                    .contains("field-error")
                    .then(|| last_control.clone())
                    .flatten()
            }) {
                Some(control) => {
                    let _ = control.focus();
                }
                None => element.scroll_into_view_with_bool(false),
            }
            return;
        }
    };
    let focus = wasm_bindgen::closure::Closure::once_into_js(focus);
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback(focus.unchecked_ref());
    }
}

#[cfg(not(feature = "hydrate"))]
fn focus_first_error_soon(_form: NodeRef<leptos::html::Form>) {}
