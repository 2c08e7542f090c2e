//! The optional rate limit field of the create and edit forms: a number of
//! requests per second or per minute; empty for none.

use gatehouse_model::{KeyRateLimit, RatePeriod};
use leptos::prelude::*;

/// The rate limit input's signals.
#[derive(Clone, Copy)]
pub(super) struct RateLimitInput {
    pub(super) requests: RwSignal<String>,
    pub(super) per: RwSignal<RatePeriod>,
    pub(super) error: RwSignal<Option<String>>,
}

impl RateLimitInput {
    pub(super) fn new() -> Self {
        Self {
            requests: RwSignal::new(String::new()),
            per: RwSignal::new(RatePeriod::Minute),
            error: RwSignal::new(None),
        }
    }

    pub(super) fn load(&self, limit: Option<KeyRateLimit>) {
        self.requests.set(
            limit
                .map(|limit| limit.requests.to_string())
                .unwrap_or_default(),
        );
        self.per
            .set(limit.map_or(RatePeriod::Minute, |limit| limit.per));
        self.error.set(None);
    }

    /// The limit entered, or the message to show beside the field.
    pub(super) fn chosen(&self) -> Result<Option<KeyRateLimit>, ()> {
        let chosen = chosen_rate_limit(&self.requests.get_untracked(), self.per.get_untracked());
        self.error.set(chosen.as_ref().err().cloned());
        chosen.map_err(|_| ())
    }
}

/// Reads the rate limit typed: none when blank, else a whole number of requests.
/// Only reading is done here; the server decides which numbers are allowed.
pub fn chosen_rate_limit(requests: &str, per: RatePeriod) -> Result<Option<KeyRateLimit>, String> {
    let requests = requests.trim();
    if requests.is_empty() {
        return Ok(None);
    }
    requests
        .parse::<i64>()
        .map(|requests| Some(KeyRateLimit { requests, per }))
        .map_err(|_| "Enter a whole number of requests, or leave it empty for no limit.".to_owned())
}

/// A limit as the key detail shows it.
pub(super) fn rate_limit_text(limit: Option<KeyRateLimit>) -> String {
    match limit {
        Some(limit) => format!("{} requests per {}", limit.requests, limit.per.as_str()),
        None => "None".to_owned(),
    }
}

/// The field: requests and the window, with the server's or the form's message.
#[component]
pub(super) fn RateLimitField(
    input: RateLimitInput,
    id_prefix: &'static str,
    #[prop(into)] server_error: Signal<Option<String>>,
) -> impl IntoView {
    let requests_id = format!("{id_prefix}-rate-limit");
    let per_id = format!("{id_prefix}-rate-period");
    view! {
        <fieldset class="rate-limit">
            <legend>"Rate limit (optional)"</legend>
            <p class="muted small">"Calls over it are answered 429 rate_limited. Leave empty for no limit."</p>
            <div class="inline-fields">
                <label for=requests_id.clone() class="visually-hidden">"Requests"</label>
                <input id=requests_id name="rate_limit_requests" type="number" min="1" step="1"
                    placeholder="e.g. 100" bind:value=input.requests
                    on:input=move |_| input.error.set(None) />
                <label for=per_id.clone()>"requests per"</label>
                <select id=per_id name="rate_limit_per" on:change=move |event| {
                    let per = RatePeriod::parse(&event_target_value(&event)).unwrap_or(RatePeriod::Minute);
                    input.per.set(per);
                }>
                    {RatePeriod::ALL.iter().map(|per| view! {
                        <option value=per.as_str() prop:selected=move || input.per.get() == *per>{per.as_str()}</option>
                    }).collect_view()}
                </select>
            </div>
            <p class="field-error" data-field="rate_limit">
                {move || input.error.get().or_else(|| server_error.get())}
            </p>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_no_limit_and_numbers_are_read() {
        assert_eq!(chosen_rate_limit("  ", RatePeriod::Second), Ok(None));
        assert_eq!(
            chosen_rate_limit(" 20 ", RatePeriod::Second),
            Ok(Some(KeyRateLimit {
                requests: 20,
                per: RatePeriod::Second
            }))
        );
        assert!(chosen_rate_limit("ten", RatePeriod::Minute).is_err());
    }
}
