#!/usr/bin/env bash
# The audit search benchmark (`./dev bench`, after the webhook benchmark): the release
# server on a fresh PostgreSQL database, 1 M audit events seeded in SQL for the demo
# tenant (4 apps, live and test, 7 event types, 40 actors, related keys, endpoints,
# events and payment intents, one event every ~8 s over 90 days), then the latency of
# one page of the search, one request at a time over a kept-alive connection:
#   key        GET /v1/audit-events?limit=100 with a key, which sees its own app and mode
#              (1/8 of the events): unfiltered, by each filter, and a page deep in
#   dashboard  the Audit page's server function (tenant-wide, 25 a page), likewise
# and, with 1 M usage rows seeded beside them (2,740 keys over 365 days), the usage
# report: `GET /v1/usage` for the key's app and for one key (30 and 365 days), and the
# Usage tab's server function (tenant-wide, the billing window);
# printing p50/p95/p99 in ms per case (target: p95 < 20 ms). Settings:
# BENCH_AUDIT_EVENTS (1000000), BENCH_AUDIT_REQUESTS (200 per case),
# GATEHOUSE_TEST_POSTGRES_URL (the server's database is created beside it and dropped).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
events=${BENCH_AUDIT_EVENTS:-1000000}
requests=${BENCH_AUDIT_REQUESTS:-200}

data=$(mktemp -d)
port=$(free_port)
base="http://127.0.0.1:$port"
pg_db="gatehouse_audit_bench_$$"
cleanup() {
  [ -n "${server:-}" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null
  psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$data"
}
trap cleanup EXIT
psql -q "$pg_admin" -c "CREATE DATABASE $pg_db" >/dev/null
url="${pg_admin%/*}/$pg_db"

master_key=$(openssl rand -base64 32)
GATEHOUSE_MASTER_KEY="$master_key" start_server "$url" "$data/server.log"
# The seeded usage is far over the Pro plan's monthly limit: the operator raises it, so
# that the key's calls measure the search, not the 429.
DATABASE_URL="$url" GATEHOUSE_MASTER_KEY="$master_key" GATEHOUSE_LOG=warn \
  "$bin" update-tenant --tenant "Demo Company" --monthly-limit 1000000000000 >/dev/null

jar="$data/cookies"
sign_in_owner
app_id=$(fn create_app '{"input":{"name":"Audit bench"}}' | json_field id)
created=$(fn create_api_key "{\"input\":{\"app_id\":\"$app_id\",\"name\":\"Audit reader\",\"mode\":\"live\",\"key_type\":\"restricted\",\"scopes\":[\"audit_events:read\",\"usage:read\"]}}")
key=$(json_field plaintext <<<"$created")
key_id=$(json_field key id <<<"$created")
tenant_id=$(psql -tAq "$url" -c "SELECT tenant_id FROM apps WHERE id = '$app_id'")

echo "Gatehouse audit search benchmark: $events events, $requests requests per case, $(nproc) cores, PostgreSQL"
started=$(date +%s)
# Event i happens i steps before now; the key's app is app number 0 of 4 and i % 8 = 0
# is its live side. Ids are valid (26 characters of Crockford base32) and sort like time.
psql -q -v ON_ERROR_STOP=1 -v tenant="$tenant_id" -v app="$app_id" -v key_id="$key_id" -v n="$events" "$url" <<'SQL'
CREATE TEMP TABLE seed AS
WITH rows AS (
    SELECT i,
        (extract(epoch FROM now()) * 1000)::bigint - 60000 - i * (90::bigint * 86400000 / :n) AS at,
        (i / 8) % 7 AS kind,
        (i / 56) % 40 AS actor
    FROM generate_series(1, :n) AS i
)
SELECT i, at,
    'aud_' || lpad(to_hex(:n + 1 - i), 10, '0') || substr(md5(i::text), 1, 16) AS id,
    CASE WHEN kind = 6 THEN NULL
         WHEN i % 4 = 0 THEN :'app'
         ELSE 'app_' || lpad(to_hex(i % 4), 26, '0') END AS app_id,
    CASE WHEN kind = 6 THEN NULL WHEN i % 8 < 4 THEN 'live' ELSE 'test' END AS mode,
    (ARRAY['api_key.created', 'api_key.updated', 'app.updated', 'webhook_endpoint.updated',
           'event.sent', 'access_token.issued', 'user.signed_in'])[kind + 1] AS event_type,
    CASE WHEN actor < 20 THEN 'user' ELSE 'api_key' END AS actor_type,
    CASE WHEN actor < 20 THEN 'usr_' ELSE 'key_' END || lpad(to_hex(actor), 26, '0') AS actor_id,
    CASE kind
        WHEN 0 THEN jsonb_build_object('key_id', 'key_' || lpad(to_hex(1000 + i % 200), 26, '0'))
        WHEN 1 THEN jsonb_build_object('key_id', 'key_' || lpad(to_hex(1000 + i % 200), 26, '0'))
        WHEN 3 THEN jsonb_build_object('endpoint_id', 'ep_' || lpad(to_hex(2000 + i % 50), 26, '0'))
        WHEN 4 THEN jsonb_build_object('event_id', 'evt_' || lpad(to_hex(i), 26, '0'),
                                       'id', 'pi_' || (i % 100000))
        WHEN 5 THEN jsonb_build_object('key_id', 'key_' || lpad(to_hex(1000 + i % 200), 26, '0'))
        WHEN 6 THEN jsonb_build_object('user_id', 'usr_' || lpad(to_hex(actor), 26, '0'))
        ELSE '{}'::jsonb END AS related
FROM rows;

-- Loading is quicker with the search indexes built afterwards, from their own definitions.
CREATE TEMP TABLE search_indexes AS
SELECT indexname, indexdef FROM pg_indexes
WHERE tablename IN ('audit_events', 'audit_event_refs') AND indexname NOT LIKE '%pkey';
SELECT format('DROP INDEX %I', indexname) FROM search_indexes \gexec

INSERT INTO audit_events (id, tenant_id, occurred_at, actor_type, actor_id, actor_label,
    event_type, message, app_id, mode, related_ids, before_state, after_state)
SELECT id, :'tenant', at, actor_type, actor_id, 'actor ' || actor_id, event_type,
    'Bench event ' || i, app_id, mode, related::text,
    CASE WHEN event_type LIKE '%.updated' THEN jsonb_build_object('name', 'Name ' || i)::text END,
    jsonb_build_object('name', 'Name ' || (i + 1), 'status', 'enabled')::text
FROM seed ORDER BY i;

INSERT INTO audit_event_refs (tenant_id, ref_id, occurred_at, event_id, app_id, mode)
SELECT :'tenant', app_id, at, id, app_id, mode FROM seed WHERE app_id IS NOT NULL
UNION ALL
SELECT :'tenant', ref.value, at, id, app_id, mode FROM seed, jsonb_each_text(related) AS ref;
SELECT indexdef FROM search_indexes \gexec
ANALYZE audit_events;
ANALYZE audit_event_refs;

-- Usage: 2,740 keys (the bench key among them) over the last 365 days, spread over the
-- 4 apps and both modes: 1 M rows.
INSERT INTO usage_daily (tenant_id, app_id, key_id, mode, day, successes, failures)
SELECT :'tenant',
    CASE WHEN k % 4 = 0 THEN :'app' ELSE 'app_' || lpad(to_hex(k % 4), 26, '0') END,
    CASE WHEN k = 0 THEN :'key_id' ELSE 'key_' || lpad(to_hex(5000 + k), 26, '0') END,
    CASE WHEN k % 8 < 4 THEN 'live' ELSE 'test' END,
    to_char((now() AT TIME ZONE 'UTC')::date - d, 'YYYY-MM-DD'),
    (k * 7 + d) % 500, (k + d) % 7
FROM generate_series(0, 2739) AS k, generate_series(0, 364) AS d;
-- And the per-app and per-tenant days the usage flush writes beside them.
INSERT INTO usage_daily_rollup (tenant_id, mode, app_id, day, successes, failures)
SELECT tenant_id, mode, app_id, day, SUM(successes), SUM(failures)
FROM usage_daily WHERE tenant_id = :'tenant' GROUP BY tenant_id, mode, app_id, day
UNION ALL
SELECT tenant_id, mode, '', day, SUM(successes), SUM(failures)
FROM usage_daily WHERE tenant_id = :'tenant' GROUP BY tenant_id, mode, day
ON CONFLICT (tenant_id, mode, app_id, day) DO UPDATE SET
    successes = usage_daily_rollup.successes + excluded.successes,
    failures = usage_daily_rollup.failures + excluded.failures;
ANALYZE usage_daily;
ANALYZE usage_daily_rollup;
SQL
echo "seeded in $(( $(date +%s) - started )) s"

# What the cases filter by: a user, a key related to many events, a payment intent of the
# key's side, a week a month ago, and cursors deep in (the 50 000th event of each view,
# at 1 M events).
deep=$(( events / 20 ))
IFS='|' read -r user related_key payment deep_key deep_tenant week_from week_to < <(psql -tAq "$url" <<SQL
SELECT 'usr_' || lpad(to_hex(3), 26, '0'), 'key_' || lpad(to_hex(1000 + 8), 26, '0'),
    (SELECT ref_id FROM audit_event_refs WHERE tenant_id = '$tenant_id' AND app_id = '$app_id'
     AND mode = 'live' AND ref_id LIKE 'pi_%' LIMIT 1),
    (SELECT id FROM audit_events WHERE tenant_id = '$tenant_id' AND app_id = '$app_id' AND mode = 'live'
     ORDER BY occurred_at DESC, id DESC OFFSET $deep LIMIT 1),
    (SELECT id FROM audit_events WHERE tenant_id = '$tenant_id'
     ORDER BY occurred_at DESC, id DESC OFFSET $deep LIMIT 1),
    to_char(now() AT TIME ZONE 'UTC' - interval '37 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    to_char(now() AT TIME ZONE 'UTC' - interval '30 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
SQL
)
cookie=$(awk '$6 ~ /session/ { print $6 "=" $7 }' "$jar")

month_ago=$(date -u -d '30 days ago' +%F); year_ago=$(date -u -d '364 days ago' +%F); today=$(date -u +%F)
python3 - "$base" "$key" "$cookie" "$requests" <<PY
import http.client, json, sys, time, urllib.parse
base, key, cookie, requests = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
host = urllib.parse.urlparse(base)
connection = http.client.HTTPConnection(host.hostname, host.port)
def v1(query):
    return ("GET", "/v1/audit-events?limit=100" + ("&" + query if query else ""), None,
            {"authorization": "Bearer " + key})
def usage(query):
    return ("GET", "/v1/usage?" + query, None, {"authorization": "Bearer " + key})
def usage_tab():
    return ("POST", "/api/load_usage", "for_selected_app=false",
            {"cookie": cookie, "sec-fetch-site": "same-origin",
             "content-type": "application/x-www-form-urlencoded"})
def dashboard(filter, cursor=None):
    body = json.dumps({"filter": filter, "cursor": cursor})
    return ("POST", "/api/load_audit_events", body,
            {"cookie": cookie, "sec-fetch-site": "same-origin", "content-type": "application/json"})
cases = [
    ("key: unfiltered", v1("")),
    ("key: event_type", v1("event_type=api_key.updated")),
    ("key: actor_id", v1("actor_id=$user")),
    ("key: related_id (a key)", v1("related_id=$related_key")),
    ("key: related_id (a payment intent)", v1("related_id=$payment")),
    ("key: from/to (a week)", v1("from=$week_from&to=$week_to")),
    ("key: event_type + from/to", v1("event_type=event.sent&from=$week_from&to=$week_to")),
    ("key: deep cursor ($deep in)", v1("cursor=$deep_key")),
    ("dashboard: unfiltered", dashboard({})),
    ("dashboard: event_type", dashboard({"event_type": "api_key.updated"})),
    ("dashboard: actor_id", dashboard({"actor_id": "$user"})),
    ("dashboard: related_id (a key)", dashboard({"related_id": "$related_key"})),
    ("dashboard: related_id (a payment intent)", dashboard({"related_id": "$payment"})),
    ("dashboard: from/to (a week)", dashboard({"from": "$week_from", "to": "$week_to"})),
    ("dashboard: deep cursor ($deep in)", dashboard({}, "$deep_tenant")),
    ("usage: the key's app, 30 days", usage("from=$month_ago&to=$today")),
    ("usage: the key's app, 365 days", usage("from=$year_ago&to=$today")),
    ("usage: one key, 365 days", usage("from=$year_ago&to=$today&key_id=$key_id")),
    ("usage tab: tenant, billing window", usage_tab()),
]
def call(method, path, body, headers):
    started = time.perf_counter()
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    answer = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        sys.exit(f"{path}: HTTP {response.status} {answer[:300]!r}")
    return elapsed, json.loads(answer)
print(f"{'case':<40} {'items':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
worst = 0.0
for label, request in cases:
    for _ in range(10):
        _, page = call(*request)
    times = sorted(call(*request)[0] for _ in range(requests))
    pick = lambda share: times[min(len(times) - 1, int(share * len(times)))]
    p50, p95, p99 = pick(0.50), pick(0.95), pick(0.99)
    worst = max(worst, p95)
    items = page.get("data") or page.get("days") or (page.get("report") or {}).get("days") or []
    if not items:
        sys.exit(f"{label}: an empty answer measures nothing: {str(page)[:300]}")
    print(f"{label:<40} {len(items):>6} {p50:>8.2f} {p95:>8.2f} {p99:>8.2f}")
print(f"worst p95: {worst:.2f} ms (target < 20 ms)")
PY
