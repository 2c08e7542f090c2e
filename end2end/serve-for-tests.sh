#!/usr/bin/env bash
# Starts the release server on a fresh SQLite database with the people the browser
# tests need: the demo owner (fixed password), a member of the demo tenant, the owner
# of a tenant without platform.api, and the owner of a second Pro tenant.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(mktemp -d)
export DATABASE_URL="sqlite://$data/gatehouse.db"
export GATEHOUSE_ADDR="127.0.0.1:${E2E_PORT:-3100}"
export GATEHOUSE_BOOTSTRAP_PASSWORD="demo-owner-password-1"
# The browser tests' webhook receivers listen on 127.0.0.1.
export GATEHOUSE_WEBHOOK_ALLOW_NETWORKS="127.0.0.1"
# The SaaS of the embedding spec (embedded.spec.ts) serves its settings page on
# localhost, another site than 127.0.0.1, one port up; a second page one port further
# is not allowed to frame the workspace.
saas="http://localhost:$(( ${E2E_PORT:-3100} + 1 ))"
export GATEHOUSE_EMBED_ORIGINS="$saas"
export GATEHOUSE_RETURN_URL="$saas/settings"
bin=target/release/gatehouse

# First start on the empty database creates the demo tenant; stop it once healthy.
$bin serve >"$data/first-start.log" 2>&1 &
first=$!
for _ in $(seq 1 100); do
  curl -sf "http://$GATEHOUSE_ADDR/health" >/dev/null 2>&1 && break
  sleep 0.1
done
kill -TERM "$first"; wait "$first" || true
grep -q '^Demo sign-in: ' "$data/first-start.log"

$bin create-user --tenant "Demo Company" --email member@demo.test --role member --password "member-password-1" >/dev/null
$bin create-tenant --name "Free Tenant" --plan free --modules "" >/dev/null
$bin create-user --tenant "Free Tenant" --email owner@free.test --role owner --password "free-owner-password-1" >/dev/null
# A Pro tenant of its own for the API keys spec, so its app does not change the demo
# tenant's app list that developers.spec.ts counts.
$bin create-tenant --name "Keys Company" >/dev/null
$bin create-user --tenant "Keys Company" --email owner@keys.test --role owner --password "keys-owner-password-1" >/dev/null
# And one for the webhooks spec.
$bin create-tenant --name "Hooks Company" >/dev/null
$bin create-user --tenant "Hooks Company" --email owner@hooks.test --role owner --password "hooks-owner-password-1" >/dev/null
# And for the usage spec: one on the Pro plan, one whose operator set a limit of 2.
$bin create-tenant --name "Usage Company" >/dev/null
$bin create-user --tenant "Usage Company" --email owner@usage.test --role owner --password "usage-owner-password-1" >/dev/null
$bin create-tenant --name "Limited Company" >/dev/null
$bin create-user --tenant "Limited Company" --email owner@limited.test --role owner --password "limited-owner-password-1" >/dev/null
$bin update-tenant --tenant "Limited Company" --monthly-limit 2 >/dev/null
# And one for the audit spec, whose trail holds only what it does.
$bin create-tenant --name "Audit Company" >/dev/null
$bin create-user --tenant "Audit Company" --email owner@audit.test --role owner --password "audit-owner-password-1" >/dev/null
# And for the keyboard and phone spec.
$bin create-tenant --name "Keyboard Company" >/dev/null
$bin create-user --tenant "Keyboard Company" --email owner@keyboard.test --role owner --password "keyboard-owner-password-1" >/dev/null
# And for the loading and error states spec.
$bin create-tenant --name "States Company" >/dev/null
$bin create-user --tenant "States Company" --email owner@states.test --role owner --password "states-owner-password-1" >/dev/null
# The Logs spec (request-logs.spec.ts): its own tenant, so its log holds only its calls.
$bin create-tenant --name "Logs Company" >/dev/null
$bin create-user --tenant "Logs Company" --email owner@logs.test --role owner --password "logs-owner-password-1" >/dev/null
# And one for the MCP spec, whose request log holds only its agent's calls.
$bin create-tenant --name "Agents Company" >/dev/null
$bin create-user --tenant "Agents Company" --email owner@agents.test --role owner --password "agents-owner-password-1" >/dev/null
# The alerts spec (alerts.spec.ts): a limit of 10 calls, so that 8 pass 80 %.
$bin create-tenant --name "Alerts Company" >/dev/null
$bin create-user --tenant "Alerts Company" --email owner@alerts.test --role owner --password "alerts-owner-password-1" >/dev/null
$bin update-tenant --tenant "Alerts Company" --monthly-limit 10 >/dev/null
# The layout spec (layout.spec.ts): long records walked at three widths.
$bin create-tenant --name "Layout Company" >/dev/null
$bin create-user --tenant "Layout Company" --email owner@layout.test --role owner --password "layout-owner-password-1" >/dev/null
# The setup guide spec (setup-guide.spec.ts): a workspace that starts empty.
$bin create-tenant --name "Setup Company" >/dev/null
$bin create-user --tenant "Setup Company" --email owner@setup.test --role owner --password "setup-owner-password-1" >/dev/null
# The SaaS's backend calls /operator/v1 with a token made here.
$bin create-operator-token --name "e2e-saas" | tail -n 1 > end2end/.operator-token
exec $bin serve
