//! The Usage tab: the plan, subscription state, whether platform.api is
//! enabled, the monthly limit and what is used of it, the billing window, and a chart of
//! the window's live calls per day split by success and failure, for the tenant or the
//! selected app. The chart is an SVG drawn on the server (failures hatched, so it reads
//! without colour), its axis labels HTML beside it so they keep a readable size at any
//! width, a readout of the day pointed at or chosen with the arrow keys, and the same
//! figures in a table behind it.

use gatehouse_model::{Overview, UsageDay, UsagePage};
use leptos::prelude::*;

use crate::server_fns::{load_overview, load_usage};
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

/// The plot's drawing area, in SVG user units (stretched to the box's width; the
/// labels are HTML beside it, so they keep their size at any width).
const CHART_WIDTH: f64 = 620.0;
const CHART_HEIGHT: f64 = 160.0;

/// One day's bar: where it stands and how tall each part is.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub width: f64,
    /// Successes stand on the axis; failures stack on top of them.
    pub success_height: f64,
    pub failure_height: f64,
}

/// The value axis: its top and its ticks, from 0 up in steps of 1, 2 or 5 × 10ⁿ, about
/// four of them above 0.
pub fn value_ticks(busiest: i64) -> (i64, Vec<i64>) {
    let raw = (busiest.max(4) as f64) / 4.0;
    let magnitude = 10f64.powi(raw.log10().floor() as i32);
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|factor| factor * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * magnitude)
        .max(1.0) as i64;
    let top = (busiest.max(4) + step - 1) / step * step;
    (top, (0..=top / step).map(|index| index * step).collect())
}

/// The bars of `days` scaled to the value axis' top; every day gets a slot, so an empty
/// window draws an empty chart.
pub fn chart_bars(days: &[UsageDay], top: i64) -> Vec<Bar> {
    let slot = CHART_WIDTH / days.len().max(1) as f64;
    let scale = CHART_HEIGHT / top.max(1) as f64;
    days.iter()
        .enumerate()
        .map(|(index, day)| Bar {
            x: index as f64 * slot + slot * 0.15,
            width: slot * 0.7,
            success_height: day.successes as f64 * scale,
            failure_height: day.failures as f64 * scale,
        })
        .collect()
}

/// `2026-12-07` as the axis says it: `Dec 7`.
fn short_day(day: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = day.split('-').skip(1);
    match (
        parts.next().and_then(|month| month.parse::<usize>().ok()),
        parts.next().and_then(|date| date.parse::<u32>().ok()),
    ) {
        (Some(month @ 1..=12), Some(date)) => format!("{} {date}", MONTHS[month - 1]),
        _ => day.to_owned(),
    }
}

/// The days the date axis names: every seventh from the first, and the last when it is
/// not crowded by the one before.
fn labelled_days(count: usize) -> Vec<usize> {
    let mut labelled: Vec<usize> = (0..count).step_by(7).collect();
    if let Some(&last_labelled) = labelled.last()
        && count > 0
        && count - 1 - last_labelled >= 3
    {
        labelled.push(count - 1);
    }
    labelled
}

/// What the readout says of a day.
fn day_text(day: &UsageDay) -> String {
    format!(
        "{}: {} successful, {} failed",
        day.day,
        format_count(day.successes),
        format_count(day.failures)
    )
}

#[component]
fn UsageChart(page: UsagePage) -> impl IntoView {
    let report = page.report;
    let whose = page
        .app
        .as_ref()
        .map(app_label)
        .unwrap_or_else(|| "the whole tenant".to_owned());
    let busiest = report
        .days
        .iter()
        .map(|day| day.successes + day.failures)
        .max()
        .unwrap_or(0);
    let (top, ticks) = value_ticks(busiest);
    let bars = chart_bars(&report.days, top);
    let summary = format!(
        "Live calls per day from {} to {} for {whose}: {} successful, {} failed.",
        report.from, report.to, report.total_successes, report.total_failures
    );
    let day_count = report.days.len();
    let days = StoredValue::new(report.days.clone());
    // The day the readout shows: the one hovered, or chosen with the arrow keys.
    let selected = RwSignal::new(None::<usize>);
    let readout = move || {
        selected
            .get()
            .and_then(|index| days.with_value(|days| days.get(index).map(day_text)))
            .unwrap_or_else(|| {
                "Point at a day, or focus the chart and use the arrow keys, to read its figures."
                    .to_owned()
            })
    };
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        let step: i64 = match event.key().as_str() {
            "ArrowLeft" => -1,
            "ArrowRight" => 1,
            "Home" => -(day_count as i64),
            "End" => day_count as i64,
            _ => return,
        };
        event.prevent_default();
        selected.update(|chosen| {
            let from = chosen.map_or(day_count as i64 - 1, |index| index as i64);
            *chosen = Some((from + step).clamp(0, day_count.saturating_sub(1) as i64) as usize);
        });
    };
    let gridlines = ticks
        .iter()
        .map(|tick| {
            let y = CHART_HEIGHT - *tick as f64 * CHART_HEIGHT / top as f64;
            view! { <line class="gridline" x1="0" y1=y x2=CHART_WIDTH y2=y /> }
        })
        .collect_view();
    let value_labels = ticks
        .iter()
        .map(|tick| {
            let from_top = 100.0 - *tick as f64 * 100.0 / top as f64;
            view! { <span class="axis-label" style=format!("top: {from_top:.2}%")>{format_count(*tick)}</span> }
        })
        .collect_view();
    let day_labels = labelled_days(day_count)
        .into_iter()
        .filter_map(|index| {
            let day = report.days.get(index)?;
            let centre = (index as f64 + 0.5) * 100.0 / day_count as f64;
            // A label near the right edge ends at its day instead of centring on it.
            Some(view! {
                <span class="axis-label" class:at-end={centre > 90.0} style=format!("left: {centre:.2}%")>{short_day(&day.day)}</span>
            })
        })
        .collect_view();
    let drawn = bars
        .iter()
        .zip(report.days.iter())
        .enumerate()
        .map(|(index, (bar, day))| {
            let label = format!("{}: {} successful, {} failed", day.day, day.successes, day.failures);
            // The whole slot answers the pointer, not only the bar.
            let slot = CHART_WIDTH / day_count.max(1) as f64;
            view! {
                <g class="usage-bar" class:selected=move || selected.get() == Some(index)
                    on:mouseenter=move |_| selected.set(Some(index))>
                    <title>{label}</title>
                    <rect class="slot" x=index as f64 * slot y="0" width=slot height=CHART_HEIGHT />
                    <rect class="bar-success" x=bar.x y=CHART_HEIGHT - bar.success_height
                        width=bar.width height=bar.success_height />
                    <rect class="bar-failure" x=bar.x y=CHART_HEIGHT - bar.success_height - bar.failure_height
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
                    <td>{format_count(day.successes)}</td>
                    <td>{format_count(day.failures)}</td>
                </tr>
            }
        })
        .collect_view();
    let empty = report.total_successes + report.total_failures == 0;
    view! {
        <figure class="usage-chart" data-testid="usage-chart">
            <div class="chart-area">
                <div class="value-axis" aria-hidden="true">{value_labels}</div>
                <svg viewBox=format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}") role="img" tabindex="0"
                    aria-labelledby="usage-chart-summary" aria-describedby="usage-chart-readout"
                    preserveAspectRatio="none" on:keydown=on_key
                    on:focus=move |_| if selected.get_untracked().is_none() {
                        selected.set(day_count.checked_sub(1));
                    }
                    on:mouseleave=move |_| selected.set(None)>
                    <title id="usage-chart-summary">{summary.clone()}</title>
                    <defs>
                        <pattern id="failure-hatch" width="6" height="6" patternUnits="userSpaceOnUse"
                            patternTransform="rotate(45)">
                            <rect width="6" height="6" class="hatch-ground" />
                            <line x1="0" y1="0" x2="0" y2="6" class="hatch-line" />
                        </pattern>
                    </defs>
                    {gridlines}
                    {drawn}
                </svg>
                <div class="day-axis" aria-hidden="true">{day_labels}</div>
            </div>
            <p class="chart-readout" id="usage-chart-readout" aria-live="polite" data-testid="chart-readout">{readout}</p>
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
    fn the_value_axis_has_round_ticks_above_the_busiest_day() {
        assert_eq!(value_ticks(0), (4, vec![0, 1, 2, 3, 4]));
        assert_eq!(value_ticks(7), (8, vec![0, 2, 4, 6, 8]));
        assert_eq!(value_ticks(100), (100, vec![0, 50, 100]));
        assert_eq!(value_ticks(1_234), (1_500, vec![0, 500, 1_000, 1_500]));
    }

    #[test]
    fn the_top_fills_the_plot_and_failures_stack_on_successes() {
        let bars = chart_bars(&[day("2026-03-01", 6, 2), day("2026-03-02", 2, 0)], 8);
        assert!((bars[0].success_height + bars[0].failure_height - CHART_HEIGHT).abs() < 1e-9);
        assert!((bars[0].failure_height * 3.0 - bars[0].success_height).abs() < 1e-9);
        assert!(bars[1].x > bars[0].x + bars[0].width, "bars do not overlap");
    }

    #[test]
    fn an_empty_window_draws_flat_bars() {
        let bars = chart_bars(&vec![day("2026-03-01", 0, 0); 31], 4);
        assert_eq!(bars.len(), 31);
        assert!(bars.iter().all(|bar| bar.success_height == 0.0));
    }

    #[test]
    fn the_date_axis_names_a_day_a_week_and_the_last() {
        assert_eq!(labelled_days(31), [0, 7, 14, 21, 28]);
        assert_eq!(labelled_days(30), [0, 7, 14, 21, 28]);
        assert_eq!(labelled_days(26), [0, 7, 14, 21, 25]);
        assert_eq!(labelled_days(1), [0]);
        assert_eq!(short_day("2026-12-07"), "Dec 7");
    }
}
