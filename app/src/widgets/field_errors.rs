//! How a refused answer's messages land in a form: each field's message beside its
//! field, and the one that names no field once for the form. Every form reads its errors
//! through [`FieldErrors`] (the create and edit dialogs, the Apps form, the filter forms).

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

    /// The message when the refusal names no field (field messages go beside their
    /// fields).
    pub fn general(self) -> Option<String> {
        self.failure
            .get()
            .filter(|error| error.0.details.fields.is_empty())
            .map(|error| error.to_string())
    }
}
