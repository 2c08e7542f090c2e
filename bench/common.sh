# What the benchmarks share (sourced, not run): the release binary, the PostgreSQL
# admin URL, a free port, starting the server, the demo owner's dashboard session and
# its server functions, and reading one field of a JSON answer.

bin=${GATEHOUSE_BIN:-target/release/gatehouse}
[ -x "$bin" ] || { echo "build first: cargo xtask build (or ./dev run), or set GATEHOUSE_BIN" >&2; exit 2; }
pg_admin=${GATEHOUSE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server DATABASE_URL LOG: the release server on $port with the demo owner's
# password, logging warnings to LOG, in the background (its pid in $server); returns
# once /health answers (10 s at most). Further GATEHOUSE_* settings can be put before
# the call.
start_server() {
  DATABASE_URL="$1" GATEHOUSE_ADDR="127.0.0.1:$port" GATEHOUSE_BOOTSTRAP_PASSWORD="bench-owner-password-1" \
    GATEHOUSE_LOG=warn "$bin" serve >"$2" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.1; done
}

# sign_in_owner: signs the demo owner (password bench-owner-password-1) in to the
# server at $base, keeping the session in the cookie jar $jar.
sign_in_owner() {
  curl -sf -c "$jar" -H 'sec-fetch-site: same-origin' "$base/api/sign_in" \
    --data-urlencode email=owner@demo.gatehouse.test --data-urlencode password=bench-owner-password-1 >/dev/null
}

# fn NAME JSON: calls the server function NAME as the signed-in owner.
fn() { curl -sf -b "$jar" -c "$jar" -H 'sec-fetch-site: same-origin' -H 'content-type: application/json' "$base/api/$1" -d "$2"; }

# json_field PATH...: the field at PATH (keys, in order) of the JSON on stdin.
json_field() { python3 -c 'import json,sys
value = json.load(sys.stdin)
for key in sys.argv[1:]: value = value[key]
print(value)' "$@"; }

# need_wrk: installs wrk from Debian's packages when the machine lacks it.
need_wrk() {
  command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }; }
}

# wrk_figures WRK-ARGS...: one wrk run (1 thread unless the arguments say otherwise),
# printed as "requests/s p50 p99" (latencies in ms); fails on any non-2xx answer.
wrk_figures() {
  wrk -t1 --latency "$@" | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(label):
    m = re.search(r"^\s*" + label + r"\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if errors: sys.exit("non-2xx answers during the run: " + errors.group(1))
p50, p99 = ms("50%"), ms("99%")
print(f"{rps:.0f} {p50:.2f} {p99:.2f}")'
}

# ratio A B: A / B to two decimals.
ratio() { python3 -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.2f}")' "$1" "$2"; }

# row ROUTE RPS P50 P99: one line of a figures table.
row() { printf '%-44s %12s %10s %10s\n' "$@"; }
