//! The Usage tab: the plan, subscription state, whether platform.api is
//! enabled, the monthly limit and what is used of it, the billing window, and a chart of
//! the window's live calls per day split by success and failure, for the tenant or the
//! selected app. The chart is an SVG drawn on the server (failures hatched, so it reads
//! without colour) with the same figures in a table behind it.

use gatehouse_model::{Overview, UsageDay, UsagePage};
use leptos::prelude::*;

use crate::server_fns::{load_overview, load_usage};
use crate::widgets::ui::{app_label, format_time, show_error};

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
            overview.map(|o| o.subscription_state.as_str().to_owned()),
            None,
        ),
        (
            "platform.api",
            overview.map(|o| {
                if o.platform_api_enabled {
                    "enabled"
                } else {
                    "not enabled"
                }
                .to_owned()
            }),
            None,
        ),
        (
            "Paywall",
            overview.map(|o| o.paywall_state.as_str().to_owned()),
            Some("usage-paywall-state"),
        ),
        (
            "Monthly platform-call limit",
            overview.map(|o| o.monthly_call_limit.to_string()),
            Some("usage-limit"),
        ),
        (
            "Used this billing window",
            overview.map(|o| o.monthly_calls_used.to_string()),
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

/// The chart's drawing area, in SVG user units.
const CHART_WIDTH: f64 = 620.0;
const CHART_HEIGHT: f64 = 180.0;
const AXIS_LEFT: f64 = 48.0;
const AXIS_BOTTOM: f64 = 24.0;

/// One day's bar: where it stands and how tall each part is.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub width: f64,
    /// Successes stand on the axis; failures stack on top of them.
    pub success_height: f64,
    pub failure_height: f64,
}

/// The bars of `days` scaled so the busiest day fills the plot; every day gets a slot,
/// so an empty window draws an empty chart.
pub fn chart_bars(days: &[UsageDay]) -> (Vec<Bar>, i64) {
    let busiest = days
        .iter()
        .map(|day| day.successes + day.failures)
        .max()
        .unwrap_or(0);
    let plot_width = CHART_WIDTH - AXIS_LEFT;
    let plot_height = CHART_HEIGHT - AXIS_BOTTOM;
    let slot = plot_width / days.len().max(1) as f64;
    let scale = if busiest == 0 {
        0.0
    } else {
        plot_height / busiest as f64
    };
    let bars = days
        .iter()
        .enumerate()
        .map(|(index, day)| Bar {
            x: AXIS_LEFT + index as f64 * slot + slot * 0.15,
            width: slot * 0.7,
            success_height: day.successes as f64 * scale,
            failure_height: day.failures as f64 * scale,
        })
        .collect();
    (bars, busiest)
}

#[component]
fn UsageChart(page: UsagePage) -> impl IntoView {
    let report = page.report;
    let whose = page
        .app
        .as_ref()
        .map(app_label)
        .unwrap_or_else(|| "the whole tenant".to_owned());
    let (bars, busiest) = chart_bars(&report.days);
    let base = CHART_HEIGHT - AXIS_BOTTOM;
    let summary = format!(
        "Live calls per day from {} to {} for {whose}: {} successful, {} failed.",
        report.from, report.to, report.total_successes, report.total_failures
    );
    let first_day = report
        .days
        .first()
        .map(|day| day.day.clone())
        .unwrap_or_default();
    let last_day = report
        .days
        .last()
        .map(|day| day.day.clone())
        .unwrap_or_default();
    let drawn = bars
        .iter()
        .zip(report.days.iter())
        .map(|(bar, day)| {
            let label = format!(
                "{}: {} successful, {} failed",
                day.day, day.successes, day.failures
            );
            view! {
                <g class="usage-bar">
                    <title>{label}</title>
                    <rect class="bar-success" x=bar.x y=base - bar.success_height
                        width=bar.width height=bar.success_height />
                    <rect class="bar-failure" x=bar.x y=base - bar.success_height - bar.failure_height
                        width=bar.width height=bar.failure_height fill="url(#failure-hatch)" />
                </g>
            }
        })
        .collect_view();
    let rows = report
        .days
        .iter()
        .filter(|day| day.successes + day.failures > 0)
        .map(|day| {
            view! {
                <tr>
                    <th scope="row">{day.day.clone()}</th>
                    <td>{day.successes}</td>
                    <td>{day.failures}</td>
                </tr>
            }
        })
        .collect_view();
    let empty = report.total_successes + report.total_failures == 0;
    view! {
        <figure class="usage-chart" data-testid="usage-chart">
            <svg viewBox=format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}") role="img"
                aria-labelledby="usage-chart-summary" preserveAspectRatio="xMidYMid meet">
                <title id="usage-chart-summary">{summary.clone()}</title>
                <defs>
                    <pattern id="failure-hatch" width="6" height="6" patternUnits="userSpaceOnUse"
                        patternTransform="rotate(45)">
                        <rect width="6" height="6" class="hatch-ground" />
                        <line x1="0" y1="0" x2="0" y2="6" class="hatch-line" />
                    </pattern>
                </defs>
                <line class="axis" x1=AXIS_LEFT y1=base x2=CHART_WIDTH y2=base />
                <line class="axis" x1=AXIS_LEFT y1="0" x2=AXIS_LEFT y2=base />
                <text class="axis-label" x=AXIS_LEFT - 6.0 y="12" text-anchor="end">{busiest}</text>
                <text class="axis-label" x=AXIS_LEFT - 6.0 y=base text-anchor="end">"0"</text>
                <text class="axis-label" x=AXIS_LEFT y=CHART_HEIGHT - 6.0>{first_day}</text>
                <text class="axis-label" x=CHART_WIDTH y=CHART_HEIGHT - 6.0 text-anchor="end">{last_day}</text>
                {drawn}
            </svg>
            <figcaption>
                <span class="legend-swatch bar-success" aria-hidden="true"></span> "Successful "
                <span class="legend-swatch bar-failure hatched" aria-hidden="true"></span> "Failed (hatched) · "
                <span data-testid="usage-totals">{report.total_successes} " successful, " {report.total_failures} " failed"</span>
                {empty.then(|| view! { <span class="muted">" · No calls in this window yet."</span> })}
            </figcaption>
        </figure>
        <details class="usage-table">
            <summary>"The same figures as a table"</summary>
            <table data-testid="usage-table">
                <caption class="visually-hidden">{summary}</caption>
                <thead><tr><th scope="col">"Day"</th><th scope="col">"Successful"</th><th scope="col">"Failed"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: &str, successes: i64, failures: i64) -> UsageDay {
        UsageDay {
            day: day.to_owned(),
            successes,
            failures,
        }
    }

    #[test]
    fn the_busiest_day_fills_the_plot_and_failures_stack_on_successes() {
        let (bars, busiest) = chart_bars(&[day("2026-03-01", 6, 2), day("2026-03-02", 2, 0)]);
        assert_eq!(busiest, 8);
        let plot = CHART_HEIGHT - AXIS_BOTTOM;
        assert!((bars[0].success_height + bars[0].failure_height - plot).abs() < 1e-9);
        assert!((bars[0].failure_height * 3.0 - bars[0].success_height).abs() < 1e-9);
        assert!(bars[1].x > bars[0].x + bars[0].width, "bars do not overlap");
    }

    #[test]
    fn an_empty_window_draws_flat_bars() {
        let (bars, busiest) = chart_bars(&vec![day("2026-03-01", 0, 0); 31]);
        assert_eq!((bars.len(), busiest), (31, 0));
        assert!(bars.iter().all(|bar| bar.success_height == 0.0));
    }
}
