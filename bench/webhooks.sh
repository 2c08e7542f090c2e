#!/usr/bin/env bash
# The webhook benchmark (`./dev bench`, after the API benchmark): the release server on
# a fresh SQLite database and on a fresh PostgreSQL database, 10 endpoints of one app
# pointing at a local receiver (a separate node process answering 200 at once), events
# posted through `POST /v1/events`. Prints events accepted/s, deliveries/s and the
# p50/p99 from sending an event to its receipt (bench/webhook-load.mjs). Settings:
# BENCH_EVENTS (3000), BENCH_POSTERS (16), BENCH_RATE (100), BENCH_WEBHOOK_SECONDS (10),
# BENCH_ENGINES ("sqlite postgres"), GATEHOUSE_TEST_POSTGRES_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

data=$(mktemp -d)
receiver_port=$(free_port)
node bench/webhook-receiver.mjs "$receiver_port" &
receiver=$!
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

echo "Gatehouse webhook benchmark: 10 endpoints, $(nproc) cores (targets: >= 2600 deliveries/s; p99 <= 20 ms at 100 events/s)"
for engine in ${BENCH_ENGINES:-sqlite postgres}; do run_engine "$engine"; done
