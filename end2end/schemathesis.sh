#!/usr/bin/env bash
# Contract test of the /v1 API against its own /openapi.json with schemathesis
# (`st run --checks all`): starts the release server on a fresh SQLite database, makes a
# test-mode secret key as the demo owner, and lets schemathesis generate requests from
# the document: every schema-valid request must be accepted and every invalid one
# refused, with the answers the document promises. The rules no schema can state are
# listed, per operation, in end2end/schemathesis.toml. Part of `./dev test`; extra
# arguments go to `st run`.
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_VERSION=4.32.5
venv="$HOME/.local/schemathesis"
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
source bench/common.sh
data=$(mktemp -d)
port=$(free_port)
base="http://127.0.0.1:$port"
jar="$data/jar"
cleanup() { [ -n "${server:-}" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -rf "$data" .schemathesis; }
trap cleanup EXIT
start_server "sqlite://$data/gatehouse.db" "$data/server.log"
sign_in_owner
app=$(fn create_app '{"input":{"name":"Contract","description":"","allowed_origins":[]}}' | json_field id)
fn select_app "{\"app_id\":\"$app\"}" >/dev/null
key=$(fn create_api_key "{\"input\":{\"app_id\":\"$app\",\"name\":\"Schemathesis\",\"mode\":\"test\",\"key_type\":\"secret\",\"scopes\":[]}}" | json_field plaintext)
"$venv/bin/st" --config-file end2end/schemathesis.toml run "$base/openapi.json" --checks all -H "Authorization: Bearer $key" "$@"
