//! A key's activity on its detail: its calls per hour over the last 24 hours, or per
//! day over the last 30, successes and failures (its refused calls among them, as the
//! key list's counts and its Logs have them).

use gatehouse_model::{ActivitySlot, ApiKeyId};
use leptos::prelude::*;

use crate::server_fns::load_key_activity;
use crate::widgets::bar_chart::{CallsChart, ChartSlot, SlotUnit, labelled_from_last, short_day};
use crate::widgets::ui::{format_day, show_error};

#[component]
pub(super) fn KeyActivity(key_id: ApiKeyId) -> impl IntoView {
    let activity = Resource::new(move || key_id.clone(), load_key_activity);
    let unit = RwSignal::new(SlotUnit::Hour);
    let period = move |chosen: SlotUnit, label: &'static str, test_id: &'static str| {
        view! {
            <button type="button" data-testid=test_id aria-pressed=move || (unit.get() == chosen).to_string()
                on:click=move |_| unit.set(chosen)>{label}</button>
        }
    };
    view! {
        <section aria-labelledby="key-activity-title" data-testid="key-activity">
            <h3 id="key-activity-title">"Activity"</h3>
            <div class="segmented" role="group" aria-label="Period">
                {period(SlotUnit::Hour, "24 hours", "activity-hours")}
                {period(SlotUnit::Day, "30 days", "activity-days")}
            </div>
            <Suspense fallback=|| view! { <p class="loading chart-placeholder">"Loading…"</p> }>
                {move || {
                    let unit = unit.get();
                    Suspend::new(async move {
                        match activity.await {
                            Ok(activity) => {
                                let slots = match unit {
                                    SlotUnit::Hour => activity.hours,
                                    SlotUnit::Day => activity.days,
                                };
                                activity_chart(slots, unit).into_any()
                            }
                            Err(error) => show_error(error, move || activity.refetch()),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

fn activity_chart(slots: Vec<ActivitySlot>, unit: SlotUnit) -> impl IntoView {
    let slots: Vec<ChartSlot> = slots
        .into_iter()
        .map(|slot| {
            let day = format_day(&slot.start);
            let (name, axis) = match unit {
                SlotUnit::Hour => {
                    let hour = format!("{:02}:00", chrono::Timelike::hour(&slot.start));
                    (format!("{day} {hour} UTC"), hour)
                }
                SlotUnit::Day => (day.clone(), short_day(&day)),
            };
            ChartSlot {
                name,
                axis,
                successes: slot.successes,
                failures: slot.failures,
            }
        })
        .collect();
    let (period, every) = match unit {
        SlotUnit::Hour => ("per hour over the last 24 hours", 6),
        SlotUnit::Day => ("per day over the last 30 days", 7),
    };
    let successes: i64 = slots.iter().map(|slot| slot.successes).sum();
    let failures: i64 = slots.iter().map(|slot| slot.failures).sum();
    let summary = format!(
        "Calls with this key {period} (UTC): {successes} successful, {failures} failed or refused."
    );
    // Counted back from now, so the latest slot is always named.
    let labelled = labelled_from_last(slots.len(), every);
    view! {
        <CallsChart slots unit labelled summary id="key-activity" test_id="key-activity-chart" />
    }
}
