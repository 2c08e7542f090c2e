//! A chart of calls over time, one bar a slot (a day, an hour): successes standing on
//! the axis, failures hatched on top (so it reads without colour). The SVG is drawn on
//! the server; its axis labels are HTML beside it, so they keep a readable size at any
//! width; a readout names the slot pointed at or chosen with the arrow keys; and the
//! same figures are in a table behind it.

use leptos::prelude::*;

use crate::widgets::ui::format_count;

/// The plot's drawing area, in SVG user units (stretched to the box's width).
pub const CHART_WIDTH: f64 = 620.0;
pub const CHART_HEIGHT: f64 = 160.0;

/// What one bar stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotUnit {
    Day,
    Hour,
}

impl SlotUnit {
    /// With its article: "a day", "an hour".
    fn noun(self) -> &'static str {
        match self {
            Self::Day => "a day",
            Self::Hour => "an hour",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Self::Day => "Day",
            Self::Hour => "Hour",
        }
    }
}

/// One bar's figures, and what the readout and the axis call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartSlot {
    /// In full, for the readout and the table: `2026-03-10`, `2026-03-10 14:00 UTC`.
    pub name: String,
    /// On the axis: `Mar 10`, `14:00`.
    pub axis: String,
    pub successes: i64,
    pub failures: i64,
}

/// One slot's bar: where it stands and how tall each part is.
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

/// The bars of `slots` scaled to the value axis' top; every slot gets one, so an empty
/// window draws an empty chart.
pub fn chart_bars(slots: &[ChartSlot], top: i64) -> Vec<Bar> {
    let width = CHART_WIDTH / slots.len().max(1) as f64;
    let scale = CHART_HEIGHT / top.max(1) as f64;
    slots
        .iter()
        .enumerate()
        .map(|(index, slot)| Bar {
            x: index as f64 * width + width * 0.15,
            width: width * 0.7,
            success_height: slot.successes as f64 * scale,
            failure_height: slot.failures as f64 * scale,
        })
        .collect()
}

/// `2026-12-07` as an axis says it: `Dec 7`.
pub fn short_day(day: &str) -> String {
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

/// The slots an axis names: every `every`-th from the first, and the last when it is
/// not crowded by the one before.
pub fn labelled_slots(count: usize, every: usize) -> Vec<usize> {
    let mut labelled: Vec<usize> = (0..count).step_by(every.max(1)).collect();
    if let Some(&last_labelled) = labelled.last()
        && count > 0
        && count - 1 - last_labelled >= every / 2
    {
        labelled.push(count - 1);
    }
    labelled
}

/// The slots an axis names counting back from the last (the latest always named):
/// every `every`-th, evenly spaced.
pub fn labelled_from_last(count: usize, every: usize) -> Vec<usize> {
    let mut labelled: Vec<usize> = (0..count).rev().step_by(every.max(1)).collect();
    labelled.reverse();
    labelled
}

fn slot_text(slot: &ChartSlot) -> String {
    format!(
        "{}: {} successful, {} failed",
        slot.name,
        format_count(slot.successes),
        format_count(slot.failures)
    )
}

/// The chart. `id` makes its element ids (summary, readout, hatch) unique on the page;
/// `labelled` lists the slots whose names the axis shows.
#[component]
pub fn CallsChart(
    slots: Vec<ChartSlot>,
    unit: SlotUnit,
    labelled: Vec<usize>,
    /// What the chart shows, in one sentence (its accessible name, the table's caption).
    summary: String,
    id: &'static str,
    test_id: &'static str,
) -> impl IntoView {
    let busiest = slots
        .iter()
        .map(|slot| slot.successes + slot.failures)
        .max()
        .unwrap_or(0);
    let (top, ticks) = value_ticks(busiest);
    let bars = chart_bars(&slots, top);
    let count = slots.len();
    let total_successes: i64 = slots.iter().map(|slot| slot.successes).sum();
    let total_failures: i64 = slots.iter().map(|slot| slot.failures).sum();
    let (summary_id, readout_id, hatch_id) = (
        format!("{id}-summary"),
        format!("{id}-readout"),
        format!("{id}-hatch"),
    );
    let hatch_fill = format!("url(#{hatch_id})");
    let (labelled_by, described_by) = (summary_id.clone(), readout_id.clone());
    let shown = StoredValue::new(slots.clone());
    // The slot the readout shows: the one hovered, or chosen with the arrow keys.
    let selected = RwSignal::new(None::<usize>);
    let readout = move || {
        selected
            .get()
            .and_then(|index| shown.with_value(|slots| slots.get(index).map(slot_text)))
            .unwrap_or_else(|| {
                format!(
                    "Point at {}, or focus the chart and use the arrow keys, to read its figures.",
                    unit.noun()
                )
            })
    };
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        let step: i64 = match event.key().as_str() {
            "ArrowLeft" => -1,
            "ArrowRight" => 1,
            "Home" => -(count as i64),
            "End" => count as i64,
            _ => return,
        };
        event.prevent_default();
        selected.update(|chosen| {
            let from = chosen.map_or(count as i64 - 1, |index| index as i64);
            *chosen = Some((from + step).clamp(0, count.saturating_sub(1) as i64) as usize);
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
    let slot_labels = labelled
        .into_iter()
        .filter_map(|index| {
            let slot = slots.get(index)?;
            let centre = (index as f64 + 0.5) * 100.0 / count as f64;
            // A label near the right edge ends at its slot instead of centring on it.
            Some(view! {
                <span class="axis-label" class:at-end={centre > 90.0} style=format!("left: {centre:.2}%")>{slot.axis.clone()}</span>
            })
        })
        .collect_view();
    let drawn = bars
        .iter()
        .zip(slots.iter())
        .enumerate()
        .map(|(index, (bar, slot))| {
            // The whole slot answers the pointer, not only the bar.
            let width = CHART_WIDTH / count.max(1) as f64;
            view! {
                <g class="usage-bar" class:selected=move || selected.get() == Some(index)
                    on:mouseenter=move |_| selected.set(Some(index))>
                    <title>{slot_text(slot)}</title>
                    <rect class="slot" x=index as f64 * width y="0" width=width height=CHART_HEIGHT />
                    <rect class="bar-success" x=bar.x y=CHART_HEIGHT - bar.success_height
                        width=bar.width height=bar.success_height />
                    <rect class="bar-failure" x=bar.x y=CHART_HEIGHT - bar.success_height - bar.failure_height
                        width=bar.width height=bar.failure_height fill=hatch_fill.clone() />
                </g>
            }
        })
        .collect_view();
    let rows = slots
        .iter()
        .filter(|slot| slot.successes + slot.failures > 0)
        .map(|slot| {
            view! {
                <tr>
                    <th scope="row">{slot.name.clone()}</th>
                    <td>{format_count(slot.successes)}</td>
                    <td>{format_count(slot.failures)}</td>
                </tr>
            }
        })
        .collect_view();
    let empty = total_successes + total_failures == 0;
    view! {
        <figure class="usage-chart" data-testid=test_id>
            <div class="chart-area">
                <div class="value-axis" aria-hidden="true">{value_labels}</div>
                <svg viewBox=format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}") role="img" tabindex="0"
                    aria-labelledby=labelled_by aria-describedby=described_by
                    preserveAspectRatio="none" on:keydown=on_key
                    on:focus=move |_| if selected.get_untracked().is_none() {
                        selected.set(count.checked_sub(1));
                    }
                    on:mouseleave=move |_| selected.set(None)>
                    <title id=summary_id>{summary.clone()}</title>
                    <defs>
                        <pattern id=hatch_id width="6" height="6" patternUnits="userSpaceOnUse"
                            patternTransform="rotate(45)">
                            <rect width="6" height="6" class="hatch-ground" />
                            <line x1="0" y1="0" x2="0" y2="6" class="hatch-line" />
                        </pattern>
                    </defs>
                    {gridlines}
                    {drawn}
                </svg>
                <div class="day-axis" aria-hidden="true">{slot_labels}</div>
            </div>
            <p class="chart-readout" id=readout_id aria-live="polite" data-testid="chart-readout">{readout}</p>
            <figcaption>
                <span class="legend-swatch bar-success" aria-hidden="true"></span> "Successful "
                <span class="legend-swatch bar-failure hatched" aria-hidden="true"></span> "Failed (hatched) · "
                <span data-testid="usage-totals">{format_count(total_successes)} " successful, " {format_count(total_failures)} " failed"</span>
                {empty.then(|| view! { <span class="muted">" · No calls in this window yet."</span> })}
            </figcaption>
        </figure>
        <details class="usage-table">
            <summary>"The same figures as a table"</summary>
            <table data-testid="usage-table">
                <caption class="visually-hidden">{summary}</caption>
                <thead><tr><th scope="col">{unit.heading()}</th><th scope="col">"Successful"</th><th scope="col">"Failed"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(name: &str, successes: i64, failures: i64) -> ChartSlot {
        ChartSlot {
            name: name.to_owned(),
            axis: short_day(name),
            successes,
            failures,
        }
    }

    #[test]
    fn the_value_axis_has_round_ticks_above_the_busiest_slot() {
        assert_eq!(value_ticks(0), (4, vec![0, 1, 2, 3, 4]));
        assert_eq!(value_ticks(7), (8, vec![0, 2, 4, 6, 8]));
        assert_eq!(value_ticks(100), (100, vec![0, 50, 100]));
        assert_eq!(value_ticks(1_234), (1_500, vec![0, 500, 1_000, 1_500]));
    }

    #[test]
    fn the_top_fills_the_plot_and_failures_stack_on_successes() {
        let bars = chart_bars(&[slot("2026-03-01", 6, 2), slot("2026-03-02", 2, 0)], 8);
        assert!((bars[0].success_height + bars[0].failure_height - CHART_HEIGHT).abs() < 1e-9);
        assert!((bars[0].failure_height * 3.0 - bars[0].success_height).abs() < 1e-9);
        assert!(bars[1].x > bars[0].x + bars[0].width, "bars do not overlap");
    }

    #[test]
    fn an_empty_window_draws_flat_bars() {
        let bars = chart_bars(&vec![slot("2026-03-01", 0, 0); 31], 4);
        assert_eq!(bars.len(), 31);
        assert!(bars.iter().all(|bar| bar.success_height == 0.0));
    }

    #[test]
    fn the_axis_names_every_nth_slot_and_the_last() {
        assert_eq!(labelled_slots(31, 7), [0, 7, 14, 21, 28]);
        assert_eq!(labelled_slots(30, 7), [0, 7, 14, 21, 28]);
        assert_eq!(labelled_slots(26, 7), [0, 7, 14, 21, 25]);
        assert_eq!(labelled_slots(1, 7), [0]);
        assert_eq!(labelled_from_last(24, 6), [5, 11, 17, 23]);
        assert_eq!(labelled_from_last(30, 7), [1, 8, 15, 22, 29]);
        assert_eq!(short_day("2026-12-07"), "Dec 7");
    }
}
