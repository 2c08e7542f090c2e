//! The Usage tab: the plan, whether platform.api is enabled, and the platform calls of
//! the current billing window against the monthly limit.

use leptos::prelude::*;

use crate::server_fns::load_overview;
use crate::ui::{format_time, show_error};

#[component]
pub fn UsageTab() -> impl IntoView {
    let overview = Resource::new(|| (), |_| load_overview());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! {
                        <dl class="facts">
                            <dt>"Plan"</dt><dd>{overview.plan.as_str()}</dd>
                            <dt>"Subscription state"</dt><dd>{overview.subscription_state.as_str()}</dd>
                            <dt>"platform.api"</dt><dd>{if overview.platform_api_enabled { "enabled" } else { "not enabled" }}</dd>
                            <dt>"Monthly platform-call limit"</dt><dd>{overview.monthly_call_limit}</dd>
                            <dt>"Used this billing window"</dt><dd>{overview.monthly_calls_used}</dd>
                            <dt>"Billing window"</dt>
                            <dd>{format_time(&overview.billing_window_start)} " – " {format_time(&overview.billing_window_end)}</dd>
                        </dl>
                    }.into_any(),
                    Err(error) => show_error(error),
                }
            })}
        </Suspense>
    }
}
