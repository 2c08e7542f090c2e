//! The Usage tab: the plan, subscription state, whether platform.api is
//! enabled, the monthly limit and what is used of it, the billing window, and a chart of
//! the window's live calls per day split by success and failure, for the tenant or the
//! selected app (the chart is `widgets::bar_chart`).

use gatehouse_model::{Overview, UsagePage};
use leptos::prelude::*;

use crate::server_fns::{load_overview, load_usage};
use crate::widgets::bar_chart::{CallsChart, ChartSlot, SlotUnit, labelled_slots, short_day};
use crate::widgets::ui::{app_label, format_count, format_time, show_error};

#[component]
pub fn UsageTab() -> impl IntoView {
    let overview = Resource::new(|| (), |_| load_overview());
    let for_selected_app = RwSignal::new(false);
    let usage = Resource::new(move || for_selected_app.get(), load_usage);
    view! {
        // The placeholder has the facts' shape, so nothing below moves when they come.
        <Suspense fallback=|| plan_facts(None)>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => plan_facts(Some(&overview)).into_any(),
                    Err(error) => show_error(error, move || overview.refetch()),
                }
            })}
        </Suspense>
        <section class="usage-chart-section" aria-labelledby="usage-chart-title">
            <h3 id="usage-chart-title">"Calls per day this billing window"</h3>
            <div class="segmented" role="group" aria-label="Whose calls">
                <button type="button" data-testid="usage-tenant"
                    aria-pressed=move || (!for_selected_app.get()).to_string()
                    on:click=move |_| for_selected_app.set(false)>"Whole tenant"</button>
                <button type="button" data-testid="usage-selected-app"
                    aria-pressed=move || for_selected_app.get().to_string()
                    on:click=move |_| for_selected_app.set(true)>"Selected app"</button>
            </div>
            <Suspense fallback=|| view! { <p class="loading chart-placeholder">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match usage.await {
                        Ok(page) => view! { <UsageChart page /> }.into_any(),
                        Err(error) => show_error(error, move || usage.refetch()),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The tenant's plan and where its monthly limit stands; without the overview (still
/// loading), the same list with placeholders.
fn plan_facts(overview: Option<&Overview>) -> impl IntoView + use<> {
    let facts: [(&'static str, Option<String>, Option<&'static str>); 7] = [
        ("Plan", overview.map(|o| o.plan.as_str().to_owned()), None),
        (
            "Subscription state",
            overview.map(|o| o.subscription_state.label().to_owned()),
            None,
        ),
        (
            "API on the plan",
            overview.map(|o| {
                if o.platform_api_enabled {
                    "Included"
                } else {
                    "Not included"
                }
                .to_owned()
            }),
            None,
        ),
        (
            "API access",
            overview.map(|o| o.paywall_state.label().to_owned()),
            Some("usage-paywall-state"),
        ),
        (
            "Monthly call limit",
            overview.map(|o| format_count(o.monthly_call_limit)),
            Some("usage-limit"),
        ),
        (
            "Used this billing window",
            overview.map(|o| format_count(o.monthly_calls_used)),
            Some("usage-used"),
        ),
        (
            "Billing window",
            overview.map(|o| {
                format!(
                    "{} – {}",
                    format_time(&o.billing_window_start),
                    format_time(&o.billing_window_end)
                )
            }),
            None,
        ),
    ];
    let loading = overview.is_none();
    let rows = facts
        .into_iter()
        .map(|(label, value, test_id)| {
            view! {
                <dt>{label}</dt>
                <dd data-testid=test_id>{value.unwrap_or_else(|| "…".to_owned())}</dd>
            }
        })
        .collect_view();
    view! { <dl class="facts" class:loading-facts=loading aria-busy=loading.to_string()>{rows}</dl> }
}

/// The window's days as the chart shows them.
#[component]
fn UsageChart(page: UsagePage) -> impl IntoView {
    let report = page.report;
    let whose = page
        .app
        .as_ref()
        .map(app_label)
        .unwrap_or_else(|| "the whole tenant".to_owned());
    let summary = format!(
        "Live calls per day from {} to {} for {whose}: {} successful, {} failed.",
        report.from, report.to, report.total_successes, report.total_failures
    );
    let slots: Vec<ChartSlot> = report
        .days
        .into_iter()
        .map(|day| ChartSlot {
            axis: short_day(&day.day),
            name: day.day,
            successes: day.successes,
            failures: day.failures,
        })
        .collect();
    let labelled = labelled_slots(slots.len(), 7);
    view! {
        <CallsChart slots unit=SlotUnit::Day labelled summary id="usage-chart" test_id="usage-chart" />
    }
}
