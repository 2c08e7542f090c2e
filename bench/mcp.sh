#!/usr/bin/env bash
# The MCP server's benchmark (`./dev bench`): starts the release server on a fresh
# SQLite database with a restricted test key, opens an MCP session for it, and drives
# load with wrk from a separate process over loopback:
#   GET  /v1/whoami                        the API's own call (the peer)
#   POST /mcp tools/call whoami            the same operation as an MCP tool call:
#                                          without a session (the current protocol,
#                                          2026-07-28: a JSON answer), and in sessions
#                                          (2025-11-25, one per connection: the event
#                                          stream), each with admission, JSON-RPC and the
#                                          in-process dispatch
# back to back in each round, and prints each ratio's median (target >= 0.6). Then it
# opens BENCH_MCP_SESSIONS (1000) sessions and reports the server's resident memory
# before and after, per session, and the tool call's rate with them all open.
# Settings: BENCH_CONNECTIONS (32), BENCH_SECONDS (10), BENCH_ROUNDS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

connections=${BENCH_CONNECTIONS:-32}
seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-3}
sessions=${BENCH_MCP_SESSIONS:-1000}
need_wrk

data=$(mktemp -d)
port=$(free_port)
base="http://127.0.0.1:$port"
jar="$data/cookies"
cleanup() {
  [ -n "${server:-}" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$data"
}
trap cleanup EXIT

GATEHOUSE_MCP_SESSIONS_PER_KEY=$((sessions + connections + 10)) start_server "sqlite://$data/gatehouse.db" "$data/server.log"
sign_in_owner
app_id=$(fn create_app '{"input":{"name":"Bench"}}' | json_field id)
key=$(fn create_api_key "{\"input\":{\"app_id\":\"$app_id\",\"name\":\"Agent\",\"mode\":\"test\",\"key_type\":\"restricted\",\"scopes\":[\"api_keys:read\"]}}" \
  | json_field plaintext)

protocol=2025-11-25
# open_session: prints the id of a new MCP session of $key (initialize, initialized).
open_session() {
  local id
  id=$(curl -sf -D - -o /dev/null "$base/mcp" -H "authorization: Bearer $key" \
    -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"$protocol\",\"capabilities\":{},\"clientInfo\":{\"name\":\"bench\",\"version\":\"1\"}}}" \
    | tr -d '\r' | awk -F': ' 'tolower($1)=="mcp-session-id" {print $2}')
  curl -sf -o /dev/null "$base/mcp" -H "authorization: Bearer $key" -H "mcp-session-id: $id" \
    -H "mcp-protocol-version: $protocol" -H 'content-type: application/json' \
    -H 'accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  echo "$id"
}
# Calls of the current protocol (2026-07-28) carry no session: each POST stands alone.
cat >"$data/stateless.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $key"
wrk.headers["Mcp-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "whoami"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"}}}}'
LUA
# Calls of the session protocol (2025-11-25, today's SDKs): one session per connection,
# as agents hold them (a session answers its messages in order).
ids=""
for _ in $(seq 1 "$connections"); do ids="$ids\"$(open_session)\","; done
cat >"$data/sessions.lua" <<LUA
local ids = {${ids}}
local n = 0
request = function()
  n = n + 1
  local headers = {}
  headers["Authorization"] = "Bearer $key"
  headers["Mcp-Session-Id"] = ids[(n % #ids) + 1]
  headers["Mcp-Protocol-Version"] = "$protocol"
  headers["Content-Type"] = "application/json"
  headers["Accept"] = "application/json, text/event-stream"
  return wrk.format("POST", "/mcp", headers, '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}')
end
LUA
# The tool call answers the key, as /v1/whoami does.
curl -sf "$base/mcp" -H "authorization: Bearer $key" -H 'mcp-protocol-version: 2026-07-28' \
  -H 'mcp-method: tools/call' -H 'mcp-name: whoami' -H 'content-type: application/json' \
  -H 'accept: application/json, text/event-stream' \
  -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"}}}}' \
  | grep -q '"key_id"' || { echo "the whoami tool did not answer the key" >&2; exit 1; }

measure() {
  sleep 1
  wrk_figures -c"$connections" -d"${seconds}s" "$@"
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }

wrk -t1 -c"$connections" -d2s -H "authorization: Bearer $key" "$base/v1/whoami" >/dev/null # warm-up
echo "Gatehouse MCP benchmark: $connections connections, ${seconds}s per run, $rounds rounds, $(nproc) cores, SQLite"
stateless_ratios=()
session_ratios=()
for round in $(seq 1 "$rounds"); do
  echo "round $round"
  row route 'requests/s' 'p50 ms' 'p99 ms'
  read -r w_rps w_p50 w_p99 < <(measure -H "authorization: Bearer $key" "$base/v1/whoami")
  row 'GET /v1/whoami' "$w_rps" "$w_p50" "$w_p99"
  read -r m_rps m_p50 m_p99 < <(measure -s "$data/stateless.lua" "$base/mcp")
  row 'tools/call whoami (2026-07-28, no session)' "$m_rps" "$m_p50" "$m_p99"
  stateless_ratios+=("$(ratio "$m_rps" "$w_rps")")
  read -r s_rps s_p50 s_p99 < <(measure -s "$data/sessions.lua" "$base/mcp")
  row 'tools/call whoami (2025-11-25, sessions)' "$s_rps" "$s_p50" "$s_p99"
  session_ratios+=("$(ratio "$s_rps" "$w_rps")")
done
python3 -c '
import statistics, sys
comma = ", "
for label, ratios in (("no session", sys.argv[1].split()), ("in sessions", sys.argv[2].split())):
    print(f"tools/call whoami ({label}) / GET /v1/whoami per round: {comma.join(ratios)}; median {statistics.median(map(float, ratios)):.2f} (target >= 0.60)")' \
  "${stateless_ratios[*]}" "${session_ratios[*]}"

before=$(rss_kib)
started=$(date +%s.%N)
for _ in $(seq 1 "$sessions"); do open_session >/dev/null; done
took=$(python3 -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$started")
sleep 1
after=$(rss_kib)
python3 -c '
import sys
n, before, after, took = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
print(f"{n} open MCP sessions: resident memory {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB after, {(after - before) / n:.1f} KiB a session; opened in {took} s")' \
  "$sessions" "$before" "$after" "$took"
read -r s_rps s_p50 s_p99 < <(measure -s "$data/sessions.lua" "$base/mcp")
row "tools/call whoami, $sessions more sessions open" "$s_rps" "$s_p50" "$s_p99"
