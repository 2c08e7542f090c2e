//! One webhook message, opened from an endpoint's delivery log: the body exactly as
//! sent (shown indented, copied as sent), and every attempt with its result, latency,
//! the receiver's answer and the headers it carried.

use gatehouse_model::{EventId, MessageAttempt, WebhookEndpointId};
use leptos::prelude::*;

use super::attempt_result;
use crate::server_fns::load_webhook_message;
use crate::widgets::copy::{CopyButton, CopyState};
use crate::widgets::ui::format_time;

#[component]
pub(super) fn MessageView(
    endpoint_id: WebhookEndpointId,
    event_id: EventId,
    close: Callback<()>,
) -> impl IntoView {
    let message = Resource::new(
        move || (endpoint_id.clone(), event_id.clone()),
        |(endpoint_id, event_id)| load_webhook_message(endpoint_id, event_id),
    );
    let heading = NodeRef::<leptos::html::H4>::new();
    // Opened from a row's View: the reader is taken to it.
    Effect::new(move |_| {
        if let Some(heading) = heading.get() {
            let _ = heading.focus();
        }
    });
    let copied = RwSignal::new(CopyState::Idle);
    view! {
        <section class="message-view" aria-labelledby="message-title" data-testid="message-view">
            <div class="message-head">
                <h4 id="message-title" tabindex="-1" node_ref=heading>"Message"</h4>
                <button type="button" class="secondary" data-testid="close-message"
                    on:click=move |_| close.run(())>"Close message"</button>
            </div>
            <Suspense fallback=|| view! { <p class="loading">"Loading the message…"</p> }>
                {move || Suspend::new(async move {
                    match message.await {
                        Ok(message) => view! {
                            <dl class="facts">
                                <dt>"Event"</dt><dd><code>{message.event_type.clone()}</code></dd>
                                <dt>"Event id"</dt><dd><code data-testid="message-event-id">{message.event_id.to_string()}</code></dd>
                            </dl>
                            <div class="message-head">
                                <h5>"Body"</h5>
                                <CopyButton text=message.body.clone() state=copied what="the body"
                                    test_id="copy-body" label="Copy the body as sent" />
                            </div>
                            <pre class="payload" data-testid="message-body" tabindex="0">{pretty_json(&message.body)}</pre>
                            <h5>"Attempts"</h5>
                            <AttemptList attempts=message.attempts />
                        }.into_any(),
                        Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Each attempt, newest first, its headers one line each.
#[component]
fn AttemptList(attempts: Vec<MessageAttempt>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="data-table rows-on-phone" data-testid="message-attempts">
                <caption class="visually-hidden">"Attempts of this message, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Result"</th>
                        <th scope="col">"Latency"</th>
                        <th scope="col">"Response"</th>
                        <th scope="col">"Headers sent"</th>
                    </tr>
                </thead>
                <tbody>
                    {attempts.into_iter().map(|shown| {
                        let attempt = shown.attempt;
                        let result = attempt_result(&attempt);
                        view! {
                            <tr data-testid="message-attempt">
                                <td data-label="Time" class="time">{format_time(&attempt.attempted_at)}</td>
                                <td data-label="Result">{result}</td>
                                <td data-label="Latency">{format!("{} ms", attempt.latency_ms)}</td>
                                <td data-label="Response"><code class="excerpt">{attempt.response_excerpt}</code></td>
                                <td data-label="Headers sent">
                                    <ul class="headers">
                                        {shown.headers.into_iter().map(|header| view! {
                                            <li><code>{header.name}": "{header.value}</code></li>
                                        }).collect_view()}
                                    </ul>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// JSON text indented two spaces a level, members in the order written (a parse and
/// re-print would sort them). Text that is not JSON comes out with its line breaks moved.
pub(super) fn pretty_json(text: &str) -> String {
    fn new_line(out: &mut String, depth: usize) {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    }
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                while chars.next_if(|next| next.is_whitespace()).is_some() {}
                let closing = if c == '{' { '}' } else { ']' };
                out.push(c);
                if chars.next_if_eq(&closing).is_some() {
                    out.push(closing);
                } else {
                    depth += 1;
                    new_line(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                new_line(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                new_line(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pretty_json;

    #[test]
    fn indents_in_the_order_written() {
        let body = r#"{"type":"payment_intent.failed","timestamp":"2027-01-15T08:00:00.000Z","data":{"id":"pi_1","tags":[],"meta":{},"lines":[1,{"a":"x,y: {z}"}]}}"#;
        assert_eq!(
            pretty_json(body),
            r#"{
  "type": "payment_intent.failed",
  "timestamp": "2027-01-15T08:00:00.000Z",
  "data": {
    "id": "pi_1",
    "tags": [],
    "meta": {},
    "lines": [
      1,
      {
        "a": "x,y: {z}"
      }
    ]
  }
}"#
        );
    }

    #[test]
    fn escaped_quotes_stay_inside_their_string() {
        assert_eq!(
            pretty_json(r#"{"say":"a \"quoted\", {odd} text\\","n":1}"#),
            "{\n  \"say\": \"a \\\"quoted\\\", {odd} text\\\\\",\n  \"n\": 1\n}"
        );
    }
}
