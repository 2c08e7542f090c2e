#!/usr/bin/env bash
# The webhook benchmark (`./dev bench`, after the API benchmark): the release server on
# a fresh SQLite database and on a fresh PostgreSQL database, 10 endpoints of one app
# pointing at a local receiver (bench/receiver, a Rust process answering 200 at once),
# events posted through `POST /v1/events`. First the receiver's own ceiling: wrk posting
# a delivery's body straight to it with 10 connections. Then, per engine, events
# accepted/s, deliveries/s and that as a share of the ceiling (target: at least 0.07),
# and the p50/p99 from sending an event to its receipt at 100 events/s (target: p99 at
# most 20 ms) (bench/webhook-load.mjs). Settings: BENCH_EVENTS (3000), BENCH_POSTERS
# (16), BENCH_RATE (100), BENCH_WEBHOOK_SECONDS (10), BENCH_ENGINES ("sqlite
# postgres"), GATEHOUSE_TEST_POSTGRES_URL, BENCH_RECEIVER_BIN (a receiver already built).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

need_wrk
receiver_bin=${BENCH_RECEIVER_BIN:-target/release/gatehouse-bench-receiver}
[ -n "${BENCH_RECEIVER_BIN:-}" ] || cargo build --release --quiet -p gatehouse-bench-receiver
data=$(mktemp -d)
receiver_port=$(free_port)
"$receiver_bin" "$receiver_port" &
receiver=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$receiver_port/stats" >/dev/null && break; sleep 0.1; done
cleanup() {
  [ -n "${server:-}" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null
  kill "$receiver" 2>/dev/null || true
  [ -n "${pg_db:-}" ] && psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$data"
}
trap cleanup EXIT

run_engine() {
  local engine=$1 url port base jar
  port=$(free_port)
  base="http://127.0.0.1:$port"
  if [ "$engine" = postgres ]; then
    pg_db="gatehouse_bench_$RANDOM"
    psql -q "$pg_admin" -c "CREATE DATABASE $pg_db" >/dev/null
    url="${pg_admin%/*}/$pg_db"
  else
    url="sqlite://$data/gatehouse.db"
  fi
  GATEHOUSE_MASTER_KEY="$(openssl rand -base64 32)" GATEHOUSE_WEBHOOK_ALLOW_NETWORKS=127.0.0.1 \
    start_server "$url" "$data/server-$engine.log"
  jar="$data/cookies-$engine"
  sign_in_owner
  local app_id key
  app_id=$(fn create_app '{"input":{"name":"Webhook bench"}}' | json_field id)
  key=$(fn create_api_key "{\"input\":{\"app_id\":\"$app_id\",\"name\":\"Events\",\"mode\":\"live\",\"key_type\":\"secret\"}}" \
    | json_field plaintext)
  for i in $(seq 1 10); do
    curl -sf -H "authorization: Bearer $key" -H 'content-type: application/json' "$base/v1/webhook-endpoints" \
      -d "{\"url\":\"http://127.0.0.1:$receiver_port/hook/$i\",\"mode\":\"live\",\"event_families\":[\"payment_intent.*\"]}" >/dev/null
  done
  node bench/webhook-load.mjs "$base" "$key" "http://127.0.0.1:$receiver_port" 10 "$engine"
  kill -TERM "$server"; wait "$server" 2>/dev/null || true
  server=
}

# The ceiling: what the receiver takes with nothing in between, a delivery's body
# posted by wrk over 10 connections for 5 s.
cat >"$data/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"type":"payment_intent.created","timestamp":"2026-12-07T00:00:00Z","data":{"sent_at_ms":0,"amount":4200}}'
LUA
wrk -t1 -c10 -d5s -s "$data/post.lua" "http://127.0.0.1:$receiver_port/hook/raw" >"$data/raw.txt"
export BENCH_RECEIVER_RAW_RATE
BENCH_RECEIVER_RAW_RATE=$(awk '/Requests\/sec/ {print $2}' "$data/raw.txt")
curl -sf -X POST "http://127.0.0.1:$receiver_port/reset" >/dev/null

echo "Gatehouse webhook benchmark: 10 endpoints, $(nproc) cores"
echo "receiver ceiling: ${BENCH_RECEIVER_RAW_RATE} POST/s (wrk, 10 connections, straight to the receiver)"
echo "targets: deliveries/s at least 0.07 of the ceiling; p99 at most 20 ms at 100 events/s"
for engine in ${BENCH_ENGINES:-sqlite postgres}; do run_engine "$engine"; done
