//! The docs the app serves itself under `/docs` (SPEC O-2): the Docs tab links here.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// (slug, title, summary) of each page that exists.
pub const DOC_PAGES: &[(&str, &str, &str)] = &[
    (
        "signing-in",
        "Signing in",
        "How owners and managers sign in to the dashboard, and who sees Developers.",
    ),
    (
        "apps",
        "Apps",
        "What an app is, allowed browser origins, and the selected app.",
    ),
    (
        "authentication",
        "Authentication and scopes",
        "API keys, how to send them, scopes, access tokens, verification and error codes.",
    ),
    (
        "webhooks",
        "Webhooks",
        "Endpoints, events, signatures, retries, the delivery log, and receiver code for Node, Python and Rust.",
    ),
];

#[component]
pub fn DocsTab() -> impl IntoView {
    view! {
        <h2>"Docs"</h2>
        <p class="muted">"Hand customers off to the reference pages served by this Gatehouse."</p>
        <DocsList />
    }
}

#[component]
fn DocsList() -> impl IntoView {
    view! {
        <ul class="doc-links">
            {DOC_PAGES.iter().map(|(slug, title, summary)| view! {
                <li><a href=format!("/docs/{slug}")>{*title}</a> " — " {*summary}</li>
            }).collect_view()}
        </ul>
    }
}

#[component]
pub fn DocsIndex() -> impl IntoView {
    view! {
        <main class="docs">
            <h1>"Gatehouse documentation"</h1>
            <DocsList />
        </main>
    }
}

#[component]
pub fn DocsPage() -> impl IntoView {
    let params = use_params_map();
    let page = move || params.read().get("page").unwrap_or_default();
    view! {
        <main class="docs">
            <p><a href="/docs">"← All docs"</a></p>
            {move || match page().as_str() {
                "signing-in" => view! {
                    <h1>"Signing in"</h1>
                    <p>"Open the dashboard and sign in with your email and password. Wrong emails and wrong passwords get the same answer; after five failed attempts in fifteen minutes the account is locked for fifteen minutes."</p>
                    <p>"Your session is kept in an HttpOnly cookie for twelve hours. Signing out ends it on the server at once."</p>
                    <h2>"Who sees Developers"</h2>
                    <p>"Settings > Developers is visible to owners and managers. Members who open it get a no-access page. Tenants without the platform.api module see a Pro badge in the navigation and a locked page."</p>
                }.into_any(),
                "apps" => view! {
                    <h1>"Apps"</h1>
                    <p>"An app is one integration: its name is shown to operators, its description says what it is for, and its allowed browser origins say which web pages may call the API with its keys."</p>
                    <h2>"Allowed origins"</h2>
                    <p>"List each origin on its own line, exactly as a browser sends it: scheme://host[:port], for example https://app.example.com or http://localhost:5173. Paths, queries and trailing slashes are refused."</p>
                    <h2>"Selected app"</h2>
                    <p>"The app you select is remembered for you and drives the API keys, Webhooks and Usage tabs. Each app is linked to your tenant's shadow test tenant, where test-mode data lives."</p>
                }.into_any(),
                "authentication" => view! { <AuthenticationDoc /> }.into_any(),
                "webhooks" => view! { <WebhooksDoc /> }.into_any(),
                _ => view! { <h1>"Page not found"</h1> }.into_any(),
            }}
        </main>
    }
}

/// The "Authentication and scopes" page: what a client of `/v1` needs to know.
#[component]
fn AuthenticationDoc() -> impl IntoView {
    view! {
        <h1>"Authentication and scopes"</h1>
        <p>"Every call to the /v1 API carries an API key. Keys are created in Settings > Developers > API keys (or with POST /v1/api-keys) and belong to one app. The full key is shown once, when it is created or rotated; Gatehouse keeps only a digest of it."</p>
        <h2>"Key format"</h2>
        <p>"A key starts with its type and mode: sk_live_ and sk_test_ are secret keys with full access, rk_live_ and rk_test_ are restricted keys with explicit scopes. Then come 32 random characters and a 6-character checksum, so a mistyped key is refused at once. Test keys see and create test data only."</p>
        <h2>"Sending the key"</h2>
        <p>"Any of these headers works:"</p>
        <pre><code>"Authorization: Bearer sk_live_…\nx-api-key: sk_live_…\nAuthorization: x-api-key sk_live_…"</code></pre>
        <h2>"Scopes"</h2>
        <p>"Restricted keys hold scopes shaped area:read or area:write; write also grants read. Each route needs one scope: GET /v1/apps needs apps:read, POST /v1/apps apps:write, GET /v1/api-keys api_keys:read, and creating, editing, disabling, enabling, revoking, rotating or duplicating a key api_keys:write. A key can only create or manage keys whose access it holds itself and that expire no later than it does. A key sees only its own app (GET /v1/apps lists that one app) and only keys of its own mode; only a live key may change its app, and keys cannot create apps. GET /v1/whoami answers the calling key's id, app, mode, scopes and when the credential ends."</p>
        <h2>"Access tokens"</h2>
        <p>"POST /v1/auth/token with a key's secret returns an access_token (at_live_… or at_test_…) with the key's scopes that works for 15 minutes at most; send it as Authorization: Bearer. Only a secret can be exchanged (a token cannot renew itself), a key holds at most 20 live tokens, and a token never manages its own key. It stops at once when its key is disabled, revoked or expires, and when the secret it came from is rotated out."</p>
        <h2>"Verifying a customer's key"</h2>
        <p>"Your own services can send a customer's key to POST /v1/keys/verify with {\"key\": \"…\", \"scope\": \"imports:read\"}. The answer's code is VALID, NOT_FOUND, DISABLED, REVOKED, EXPIRED, INSUFFICIENT_SCOPE, USAGE_EXCEEDED, PLATFORM_API_DISABLED (the tenant's plan lacks platform.api) or SUBSCRIPTION_INACTIVE (past due or canceled), and a valid answer names the tenant, app, mode, scopes and the live calls left in this calendar month (UTC)."</p>
        <h2>"Audit trail"</h2>
        <p>"GET /v1/audit-events (scope audit_events:read) lists what happened, newest first: who did it, when, the ids it concerns and the state before and after. Filter with event_type, actor_id (a usr_… or key_… id), related_id (an app, key or endpoint id, or one of your own ids), from and to (RFC 3339; from is included, to is not), and page with limit (1 to 100) and the next_cursor of the previous page. A key sees only its own app's events of its own mode. The dashboard's Audit page shows the same trail."</p>
        <h2>"Calling from a browser"</h2>
        <p>"Browsers may call the API only from the key's app's allowed origins (see Apps). Other origins get 403 origin_not_allowed."</p>
        <h2>"Errors"</h2>
        <p>"Errors are JSON: {\"error\": {\"code\", \"message\", \"details\"}}. Match on the code; it never changes."</p>
        <table class="doc-table">
            <thead><tr><th>"Status"</th><th>"Code"</th><th>"Meaning"</th></tr></thead>
            <tbody>
                {gatehouse_model::ErrorCode::ALL.iter().map(|code| view! {
                    <tr><td>{code.http_status()}</td><td><code>{code.as_str()}</code></td><td>{code.meaning()}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Receiver code samples of the webhooks page (SPEC W-3): each verifies a delivery.
const NODE_RECEIVER: &str = r#"// npm install standardwebhooks
import { Webhook } from "standardwebhooks";
const webhook = new Webhook(process.env.GATEHOUSE_WEBHOOK_SECRET); // whsec_…

app.post("/webhooks", express.raw({ type: "application/json" }), (req, res) => {
  try {
    const event = webhook.verify(req.body, req.headers); // throws if not signed by Gatehouse
    handle(event.type, event.data);                       // dedupe on req.headers["webhook-id"]
    res.sendStatus(204);
  } catch {
    res.sendStatus(400);
  }
});"#;

const PYTHON_RECEIVER: &str = r#"# pip install standardwebhooks
from standardwebhooks.webhooks import Webhook

webhook = Webhook(os.environ["GATEHOUSE_WEBHOOK_SECRET"])  # whsec_…

@app.post("/webhooks")
def receive(request):
    try:
        event = webhook.verify(request.body, dict(request.headers))
    except Exception:
        return Response(status=400)
    handle(event["type"], event["data"])  # dedupe on request.headers["webhook-id"]
    return Response(status=204)"#;

const RUST_RECEIVER: &str = r#"// hmac = "0.12", sha2 = "0.10", base64 = "0.22"
use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};

/// Whether `body` was signed by Gatehouse with `secret` (whsec_…) in the last 5 minutes.
fn verify(secret: &str, id: &str, timestamp: &str, signatures: &str, body: &[u8], now: i64) -> bool {
    let Ok(sent) = timestamp.parse::<i64>() else { return false };
    if (now - sent).abs() > 300 { return false; }
    let Ok(key) = STANDARD.decode(secret.trim_start_matches("whsec_")) else { return false };
    signatures.split(' ').filter_map(|entry| entry.strip_prefix("v1,")).any(|signature| {
        let Ok(expected) = STANDARD.decode(signature) else { return false };
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("any key length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        mac.verify_slice(&expected).is_ok() // constant time
    })
}"#;

/// The "Webhooks" page: endpoints, events, signatures, retries and receivers.
#[component]
fn WebhooksDoc() -> impl IntoView {
    view! {
        <h1>"Webhooks"</h1>
        <p>"Gatehouse sends events to URLs you register, signed so that your receiver can tell them from forgeries, and keeps trying until they are accepted."</p>
        <h2>"Endpoints"</h2>
        <p>"An endpoint belongs to an app and a mode (live or test). Create it in Settings > Developers > Webhooks, or with POST /v1/webhook-endpoints (scope webhook_endpoints:write). Choose the event families it receives (api_key.*, payment_intent.*, …) or all events. Live endpoints must use https. Addresses inside private networks, loopback, link-local and cloud metadata addresses are refused, when the endpoint is saved and again on every connection."</p>
        <p>"The endpoint's signing secret (whsec_…) is shown once, when the endpoint is created or its secret rotated. After a rotation the old secret keeps signing for 24 hours: deliveries then carry two signatures, so receivers can switch without missing one."</p>
        <h2>"Events"</h2>
        <p>"Your services send events with POST /v1/events (scope events:write): {\"type\": \"payment_intent.succeeded\", \"data\": {…}}. The type's family must be one of the workspace's event families; api_key.*, webhook_endpoint.* and webhook.* are Gatehouse's own. Send an Idempotency-Key header to make retries safe: the same key within 24 hours answers the first event (200 with Idempotent-Replayed: true) and sends nothing new. The event and its deliveries are stored before the answer, so an acknowledged event is never lost."</p>
        <p>"Every event you send is also kept in the audit trail as event.sent, with the event's id and the id and …_id fields at the top of its data (not the data itself), so GET /v1/audit-events?related_id=pi_123 finds what was sent about pi_123."</p>
        <p>"Gatehouse sends its own events too: api_key.created, api_key.rotated, api_key.revoked, api_key.expiring (7 days before a key expires), webhook_endpoint.disabled and webhook.test."</p>
        <h2>"What a delivery looks like"</h2>
        <p>"A POST with a JSON body {\"type\", \"timestamp\", \"data\"} and the Standard Webhooks headers:"</p>
        <pre><code>"webhook-id: evt_…            (the event's id: the same on every retry; deduplicate on it)\nwebhook-timestamp: 1767225600 (seconds; refuse old ones)\nwebhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>"</code></pre>
        <p>"Any official Standard Webhooks library verifies these unchanged."</p>
        <h2>"Retries"</h2>
        <p>"A 2xx answer within 15 seconds is success. Anything else is retried after 5 seconds, 5 minutes, 30 minutes, 2 hours, 5 hours, 10 hours and 10 hours, with jitter; a Retry-After header asking for longer is honoured (up to a day). 410 Gone disables the endpoint at once, and so do 5 days of failures without a success; a webhook_endpoint.disabled event and an audit entry say so. At most 16 deliveries are in flight to one endpoint, and you can set a rate per second, so a slow receiver only slows itself."</p>
        <h2>"Delivery log and replay"</h2>
        <p>"Each endpoint's log lists its attempts newest first: event, time, HTTP status, latency, the first 1 KiB of the answer, the error and the next retry (GET /v1/webhook-endpoints/{id}/deliveries). Replay one event, or every event that failed since a time, from the dashboard or POST /v1/webhook-endpoints/{id}/replay. Send test event delivers a signed webhook.test at once and shows the result."</p>
        <h2>"Verifying in Node"</h2>
        <pre><code>{NODE_RECEIVER}</code></pre>
        <h2>"Verifying in Python"</h2>
        <pre><code>{PYTHON_RECEIVER}</code></pre>
        <h2>"Verifying in Rust"</h2>
        <pre><code>{RUST_RECEIVER}</code></pre>
    }
}
