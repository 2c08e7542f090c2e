#!/usr/bin/env bash
# The dashboard's weight and first interaction (`./dev bench`): starts the release
# server on a fresh SQLite database and runs end2end/measure-frontend.mjs in Chromium,
# which prints the bytes of JS and wasm over the wire for a first visit to the sign-in
# page, for signing in to the Overview and for opening each tab, and, with the CPU
# slowed 4x, the time until the sign-in page is ready and the Overview interactive.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
data=$(mktemp -d)
port=$(free_port)
base="http://127.0.0.1:$port"
cleanup() { [ -n "${server:-}" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT
start_server "sqlite://$data/gatehouse.db" "$data/server.log"
echo "Gatehouse dashboard weight: release build, first visit, Chromium $(chromium --version 2>/dev/null | awk '{print $2}')"
(cd end2end && node measure-frontend.mjs "$base" owner@demo.gatehouse.test bench-owner-password-1)
