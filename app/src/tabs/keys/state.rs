//! The API keys tab's shared state and pure helpers: the signals of the create and edit
//! forms, the key detail and the server actions, the reading of expiry and scope input,
//! and the labels the list and the detail show.

pub(super) use crate::widgets::dialog::dialog_keys;
pub(super) use crate::widgets::ui::mode_label;
use gatehouse_model::{
    ApiKeyId, ApiKeyInput, ApiKeyUpdate, ApiKeyView, CreatedApiKey, KeyMode, KeyType,
    RotationOverlap,
};
use leptos::prelude::*;

use super::rate_limit::RateLimitInput;
use crate::error::AppError;
use crate::server_fns::{
    create_api_key, duplicate_api_key, revoke_api_key, rotate_api_key, set_api_key_enabled,
    update_api_key,
};
use crate::widgets::ui::format_time;

/// The number of days the expiry choice means: `None` for never. Only reading the
/// number is done here; the server decides which numbers are allowed.
pub fn chosen_expiry_days(choice: &str, custom: &str) -> Result<Option<i64>, String> {
    match choice {
        "never" => Ok(None),
        "custom" => custom
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| "Enter a whole number of days.".to_owned()),
        days => days
            .parse::<i64>()
            .map(Some)
            .map_err(|_| "Choose an expiry.".to_owned()),
    }
}

/// The scopes typed one per line, trimmed, blank lines dropped.
pub use crate::widgets::ui::non_blank_lines as scope_lines;

/// The ticked scopes in catalog order (then any ticked ones the catalog lacks), then the
/// typed ones, each once.
pub fn merge_scopes(catalog_order: &[String], ticked: &[String], typed: &str) -> Vec<String> {
    let mut scopes: Vec<String> = catalog_order
        .iter()
        .filter(|scope| ticked.contains(scope))
        .cloned()
        .collect();
    for scope in ticked.iter().cloned().chain(scope_lines(typed)) {
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes
}

/// Scopes as the list shows them inline: "Full access" for secret keys and for legacy keys
/// (made before keys had scopes).
pub fn scopes_label(scopes: Option<&[String]>) -> String {
    match scopes {
        None => "Full access".to_owned(),
        Some([]) => "No scopes".to_owned(),
        Some(scopes) => scopes.join(", "),
    }
}

pub(super) fn type_label(key_type: KeyType) -> &'static str {
    match key_type {
        KeyType::Secret => "Secret (full access)",
        KeyType::Restricted => "Restricted",
    }
}

pub(super) fn expiry_text(key: &ApiKeyView) -> String {
    key.expires_at
        .as_ref()
        .map_or_else(|| "Never".to_owned(), format_time)
}

pub(super) fn last_used_text(key: &ApiKeyView) -> String {
    key.last_used_at
        .as_ref()
        .map_or_else(|| "Never".to_owned(), format_time)
}

/// What the create dialog holds; it outlives re-renders of the list, so a refused
/// create keeps the input.
#[derive(Clone, Copy)]
pub(super) struct CreateForm {
    pub(super) open: RwSignal<bool>,
    pub(super) name: RwSignal<String>,
    pub(super) description: RwSignal<String>,
    pub(super) mode: RwSignal<KeyMode>,
    pub(super) key_type: RwSignal<KeyType>,
    pub(super) ticked: RwSignal<Vec<String>>,
    pub(super) typed: RwSignal<String>,
    pub(super) expiry: RwSignal<String>,
    pub(super) custom_days: RwSignal<String>,
    pub(super) expiry_error: RwSignal<Option<String>>,
    pub(super) rate_limit: RateLimitInput,
}

impl CreateForm {
    pub(super) fn new() -> Self {
        Self {
            open: RwSignal::new(false),
            name: RwSignal::new(String::new()),
            description: RwSignal::new(String::new()),
            mode: RwSignal::new(KeyMode::Live),
            key_type: RwSignal::new(KeyType::Restricted),
            ticked: RwSignal::new(Vec::new()),
            typed: RwSignal::new(String::new()),
            expiry: RwSignal::new("90".to_owned()),
            custom_days: RwSignal::new(String::new()),
            expiry_error: RwSignal::new(None),
            rate_limit: RateLimitInput::new(),
        }
    }

    /// A fresh form: nothing ticked (the picker offers the catalog's suggestion).
    pub(super) fn reset(&self) {
        self.name.set(String::new());
        self.description.set(String::new());
        self.mode.set(KeyMode::Live);
        self.key_type.set(KeyType::Restricted);
        self.ticked.set(Vec::new());
        self.typed.set(String::new());
        self.expiry.set("90".to_owned());
        self.custom_days.set(String::new());
        self.expiry_error.set(None);
        self.rate_limit.load(None);
    }
}

/// What the key detail's edit form holds.
#[derive(Clone, Copy)]
pub(super) struct EditForm {
    pub(super) name: RwSignal<String>,
    pub(super) description: RwSignal<String>,
    pub(super) ticked: RwSignal<Vec<String>>,
    pub(super) typed: RwSignal<String>,
    pub(super) rate_limit: RateLimitInput,
}

impl EditForm {
    pub(super) fn new() -> Self {
        Self {
            name: RwSignal::new(String::new()),
            description: RwSignal::new(String::new()),
            ticked: RwSignal::new(Vec::new()),
            typed: RwSignal::new(String::new()),
            rate_limit: RateLimitInput::new(),
        }
    }

    fn load(&self, key: &ApiKeyView) {
        self.name.set(key.name.clone());
        self.description.set(key.description.clone());
        self.ticked.set(key.scopes.clone().unwrap_or_default());
        self.typed.set(String::new());
        self.rate_limit.load(key.rate_limit);
    }
}

pub(super) type Answer<T> = Result<T, AppError>;

/// The tab's server calls, one action each.
#[derive(Clone, Copy)]
pub(super) struct KeyActions {
    pub(super) create: Action<ApiKeyInput, Answer<CreatedApiKey>>,
    pub(super) update: Action<(ApiKeyId, ApiKeyUpdate), Answer<ApiKeyView>>,
    pub(super) set_enabled: Action<(ApiKeyId, bool), Answer<ApiKeyView>>,
    pub(super) revoke: Action<ApiKeyId, Answer<ApiKeyView>>,
    pub(super) rotate:
        Action<(ApiKeyId, RotationOverlap), Answer<(CreatedApiKey, RotationOverlap)>>,
    pub(super) duplicate: Action<ApiKeyId, Answer<CreatedApiKey>>,
}

impl KeyActions {
    pub(super) fn new() -> Self {
        Self {
            create: Action::new(|input: &ApiKeyInput| create_api_key(input.clone())),
            update: Action::new(|(key_id, update): &(ApiKeyId, ApiKeyUpdate)| {
                update_api_key(key_id.clone(), update.clone())
            }),
            set_enabled: Action::new(|(key_id, enabled): &(ApiKeyId, bool)| {
                set_api_key_enabled(key_id.clone(), *enabled)
            }),
            revoke: Action::new(|key_id: &ApiKeyId| revoke_api_key(key_id.clone())),
            rotate: Action::new(|(key_id, overlap): &(ApiKeyId, RotationOverlap)| {
                let (key_id, overlap) = (key_id.clone(), *overlap);
                async move {
                    rotate_api_key(key_id, overlap)
                        .await
                        .map(|created| (created, overlap))
                }
            }),
            duplicate: Action::new(|key_id: &ApiKeyId| duplicate_api_key(key_id.clone())),
        }
    }

    pub(super) fn busy(&self) -> bool {
        self.update.pending().get()
            || self.set_enabled.pending().get()
            || self.revoke.pending().get()
            || self.rotate.pending().get()
            || self.duplicate.pending().get()
    }
}

/// The state the key detail works on.
#[derive(Clone, Copy)]
pub(super) struct Detail {
    pub(super) managing: RwSignal<Option<ApiKeyId>>,
    pub(super) edit: EditForm,
    pub(super) error: RwSignal<Option<String>>,
    pub(super) confirming_revoke: RwSignal<bool>,
    pub(super) overlap: RwSignal<RotationOverlap>,
}

impl Detail {
    pub(super) fn open(&self, key: &ApiKeyView, actions: KeyActions) {
        self.edit.load(key);
        self.error.set(None);
        self.confirming_revoke.set(false);
        self.overlap.set(RotationOverlap::OneDay);
        actions.update.value().set(None);
        self.managing.set(Some(key.id.clone()));
    }

    pub(super) fn close(&self) {
        self.confirming_revoke.set(false);
        self.managing.set(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_choices_read_as_days() {
        assert_eq!(chosen_expiry_days("30", ""), Ok(Some(30)));
        assert_eq!(chosen_expiry_days("never", "12"), Ok(None));
        assert_eq!(chosen_expiry_days("custom", " 45 "), Ok(Some(45)));
        assert!(chosen_expiry_days("custom", "soon").is_err());
        // The range is the server's to judge.
        assert_eq!(chosen_expiry_days("custom", "0"), Ok(Some(0)));
    }

    #[test]
    fn scopes_merge_ticked_in_catalog_order_then_typed() {
        let catalog = vec![
            "apps:read".to_owned(),
            "apps:write".to_owned(),
            "api_keys:read".to_owned(),
        ];
        let ticked = vec!["api_keys:read".to_owned(), "apps:read".to_owned()];
        assert_eq!(
            merge_scopes(&catalog, &ticked, "  exports:read \n\napps:read\n"),
            vec!["apps:read", "api_keys:read", "exports:read"]
        );
    }

    #[test]
    fn scopes_label_says_full_access_for_none() {
        assert_eq!(scopes_label(None), "Full access");
        assert_eq!(
            scopes_label(Some(&["apps:read".to_owned(), "usage:read".to_owned()])),
            "apps:read, usage:read"
        );
    }
}
