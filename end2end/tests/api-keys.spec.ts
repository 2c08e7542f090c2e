import { APIRequestContext, expect, Locator, Page, test } from "@playwright/test";
import { hydrated, signIn } from "../support/session";

// A Pro tenant of its own (see serve-for-tests.sh), so the app made here leaves the
// demo tenant's app list to developers.spec.ts.
const OWNER = ["owner@keys.test", "keys-owner-password-1"] as const;
const APP_NAME = "Keys app";
const WARNING =
  "This key will only be shown once. Copy it now and store it securely. After closing this dialog, only the prefix is visible.";

async function openKeysTab(page: Page) {
  await page.goto("/settings/developers/api-keys");
  await hydrated(page);
}

/** Makes sure the owner has a selected app (creating one through the Apps tab the first
 * time) and returns its id. Leaves the page on the API keys tab. */
async function ensureApp(page: Page): Promise<string> {
  await openKeysTab(page);
  const noApp = page.getByTestId("no-app-selected");
  const heading = page.getByTestId("keys-heading");
  await expect(noApp.or(heading)).toBeVisible();
  if (await noApp.isVisible()) {
    await expect(noApp).toContainText("API keys are always bound to an app");
    await noApp.getByRole("link", { name: "Apps tab" }).click();
    await page.waitForURL("**/settings/developers/apps");
    await page.getByLabel("Name").fill(APP_NAME);
    await page.getByRole("button", { name: "Create app" }).click();
    await expect(page.locator(".app-row", { hasText: APP_NAME })).toBeVisible();
  } else {
    await page.goto("/settings/developers/apps");
    await hydrated(page);
  }
  const selected = page.locator(".app-row.selected");
  await expect(selected).toHaveCount(1);
  const appId = await selected.getAttribute("data-app-id");
  expect(appId).toMatch(/^app_/);
  await openKeysTab(page);
  await expect(page.getByTestId("keys-heading")).toHaveText(`Keys for ${APP_NAME}`);
  return appId!;
}

/** The list row of the key named exactly `name`. */
function keyRow(page: Page, name: string): Locator {
  const exactly = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  return page.getByTestId("key-row").filter({ has: page.getByTestId("key-name").filter({ hasText: exactly }) });
}

/** Reads the one-time secret, checks the step's wording, closes it, and checks that the
 * plaintext is gone from the page. */
async function takeSecret(page: Page): Promise<string> {
  const dialog = page.getByRole("dialog", { name: "Save your API key" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId("one-time-warning")).toHaveText(WARNING);
  const plaintext = (await dialog.getByTestId("one-time-plaintext").textContent())!.trim();
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByText(plaintext)).toHaveCount(0);
  expect(await page.content()).not.toContain(plaintext);
  return plaintext;
}

function bearer(key: string) {
  return { Authorization: `Bearer ${key}` };
}

async function errorCode(request: APIRequestContext, path: string, key: string) {
  const response = await request.get(path, { headers: bearer(key) });
  const body = await response.json().catch(() => null);
  return { status: response.status(), code: body?.error?.code };
}

test("a restricted key: create with two scopes, copy once, call the API, see its usage, revoke", async ({
  page,
  context,
  request,
  baseURL,
}) => {
  test.setTimeout(90_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  await signIn(page, ...OWNER);
  const appId = await ensureApp(page);

  const empty = page.getByTestId("keys-empty");
  await expect(empty.getByRole("heading", { name: "No API keys yet" })).toBeVisible();
  await empty.getByRole("button", { name: "Create API key" }).click();

  const create = page.getByRole("dialog", { name: "Create API key" });
  await expect(create).toBeVisible();
  await expect(create.getByLabel("Restricted")).toBeChecked();
  // Nothing is ticked: the catalog's default pre-selection is offered, named, as a
  // suggestion to take with one click.
  await expect(create.locator('[data-testid="scope-picker"] input[type="checkbox"]:checked')).toHaveCount(0);
  const suggestion = create.getByTestId("scope-suggestion");
  await expect(suggestion).toContainText("payment_intents:read, reconciliation_cases:read");

  // The server's validation lands beside each field and the dialog keeps the input.
  await create.getByLabel("Description").fill("Reads apps and keys for the reporting job");
  await create.getByRole("button", { name: "Create key" }).click();
  await expect(create.locator('[data-field="name"]')).toContainText("name");
  await expect(create.locator('[data-field="scopes"]')).toContainText("at least one scope");
  await expect(create.getByLabel("Description")).toHaveValue("Reads apps and keys for the reporting job");

  await suggestion.getByRole("button", { name: "Use the suggestion" }).click();
  await expect(create.locator('input[value="payment_intents:read"]')).toBeChecked();
  await expect(create.locator('input[value="reconciliation_cases:read"]')).toBeChecked();
  await create.getByLabel("Name").fill("Reporting integration");
  await create.getByLabel("Live").check();
  await create.locator('input[value="payment_intents:read"]').uncheck();
  await create.locator('input[value="reconciliation_cases:read"]').uncheck();
  await create.locator('input[value="apps:read"]').check();
  await create.locator('input[value="api_keys:read"]').check();
  await create.getByLabel("Expiration").selectOption("custom");
  await create.getByLabel("Number of days").fill("45");
  await create.getByRole("button", { name: "Create key" }).click();

  // The one-time step: copy with the button and read the clipboard back.
  const secretDialog = page.getByRole("dialog", { name: "Save your API key" });
  await expect(secretDialog).toBeVisible();
  const shown = (await secretDialog.getByTestId("one-time-plaintext").textContent())!.trim();
  expect(shown).toMatch(/^rk_(live|test)_/);
  await secretDialog.getByRole("button", { name: "Copy" }).click();
  await expect(secretDialog.getByTestId("copy-key")).toHaveText("Copied");
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toBe(shown);
  const key = await takeSecret(page);
  expect(key).toBe(shown);

  // The list shows only the masked prefix, the two scopes and no use yet.
  const row = keyRow(page, "Reporting integration");
  await expect(row).toHaveCount(1);
  const keyId = (await row.getAttribute("data-key-id"))!;
  expect(keyId).toMatch(/^key_/);
  await expect(row.getByTestId("key-prefix")).toHaveText(`${key.slice(0, 12)}…`);
  await expect(row.getByTestId("key-scopes")).toHaveText("apps:read, api_keys:read");
  await expect(row.getByTestId("key-mode")).toHaveText("live");
  await expect(row.getByTestId("key-status")).toHaveText("enabled");
  await expect(row.getByTestId("key-creator")).toHaveText(OWNER[0]);
  await expect(row.getByTestId("key-last-used")).toHaveText("Never");
  // The custom 45-day expiry, as a day in the list (the full time is in its title).
  const in45Days = new Date(Date.now() + 45 * 86_400_000).toISOString().slice(0, 10);
  await expect(row.getByTestId("key-expires")).toHaveText(in45Days);
  await expect(row.getByTestId("expires-soon")).toHaveCount(0);
  await expect(row.getByTestId("key-successes")).toHaveText("0");
  await expect(row.getByTestId("key-failures")).toHaveText("0");

  // The key works on its scopes and is refused off them.
  const own = await request.get(`/v1/api-keys/${keyId}`, { headers: bearer(key) });
  expect(own.status()).toBe(200);
  const list = await request.get(`/v1/api-keys?app_id=${appId}`, { headers: bearer(key) });
  expect(list.status()).toBe(200);
  const write = await request.post("/v1/apps", { headers: bearer(key), data: { name: "X" } });
  expect(write.status()).toBe(403);
  const refused = await write.json();
  expect(refused.error.code).toBe("insufficient_scope");
  expect(refused.error.details.required_scope).toBe("apps:write");

  // Usage counters are flushed about once a second: reload until the row shows them.
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    const current = keyRow(page, "Reporting integration");
    await expect(current.getByTestId("key-last-used")).not.toHaveText("Never", { timeout: 1_000 });
    const successes = Number(await current.getByTestId("key-successes").textContent());
    expect(successes).toBeGreaterThanOrEqual(2);
  }).toPass({ timeout: 10_000, intervals: [2_000, 1_000] });

  // The detail: id, history, and an edit.
  await keyRow(page, "Reporting integration").getByRole("button", { name: "Manage" }).click();
  const detail = page.getByRole("dialog", { name: "Reporting integration" });
  await expect(detail.getByTestId("key-detail-id")).toHaveText(keyId);
  await expect(detail.getByTestId("key-history")).toContainText(`Created by ${OWNER[0]} on`);
  await expect(detail.getByTestId("key-history")).toContainText(`Last changed by ${OWNER[0]} on`);
  await detail.getByLabel("Name").fill("Reporting integration v2");
  await detail.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved changes to Reporting integration v2.");
  await expect(keyRow(page, "Reporting integration v2")).toHaveCount(1);

  // Escape on the revoke confirmation closes only the confirmation.
  const renamed = page.getByRole("dialog", { name: "Reporting integration v2" });
  await renamed.getByRole("button", { name: "Revoke", exact: true }).click();
  await expect(page.getByRole("alertdialog")).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("alertdialog")).toHaveCount(0);
  await expect(renamed).toBeVisible();

  // Revoke, confirmed; afterwards only Duplicate is offered.
  await renamed.getByRole("button", { name: "Revoke", exact: true }).click();
  const confirm = page.getByRole("alertdialog");
  await expect(confirm).toContainText("Revocation is permanent and cannot be undone.");
  await confirm.getByRole("button", { name: "Revoke key" }).click();
  await expect(confirm).toHaveCount(0);
  await expect(renamed.getByTestId("key-detail-status")).toHaveText("revoked");
  await expect(renamed.getByRole("button", { name: "Revoke", exact: true })).toHaveCount(0);
  await expect(renamed.getByRole("button", { name: "Rotate key" })).toHaveCount(0);
  await expect(renamed.getByRole("button", { name: "Disable key" })).toHaveCount(0);
  await expect(renamed.getByRole("button", { name: "Save changes" })).toHaveCount(0);
  await expect(renamed.getByRole("button", { name: "Duplicate key" })).toBeVisible();
  await renamed.getByRole("button", { name: "Close" }).click();
  await expect(keyRow(page, "Reporting integration v2").getByTestId("key-status")).toHaveText("revoked");

  expect(await errorCode(request, `/v1/api-keys/${keyId}`, key)).toEqual({ status: 401, code: "api_key_revoked" });

  // The call refused for the revocation is one of the key's failures in the list, beside
  // the call refused for its scope, as its Logs show them.
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    const current = keyRow(page, "Reporting integration v2");
    await expect(current.getByTestId("key-failures")).toHaveText("2", { timeout: 1_000 });
    await expect(current.getByTestId("key-successes")).toHaveText("2", { timeout: 1_000 });
  }).toPass({ timeout: 10_000, intervals: [1_000] });
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await keyRow(page, "Reporting integration v2").getByRole("button", { name: "Manage" }).click();
    const logged = page.getByTestId("key-request-rows").locator('[data-testid="request-row"][data-status="401"]');
    await expect(logged).toHaveCount(1, { timeout: 1_000 });
  }).toPass({ timeout: 10_000, intervals: [1_000] });
});

test("rotate shows a new secret once and retires the old one; duplicate copies the scopes", async ({
  page,
  request,
}) => {
  test.setTimeout(90_000);
  await signIn(page, ...OWNER);
  await ensureApp(page);

  // Restricted, with the suggested scopes plus a typed one.
  await page.getByRole("button", { name: "Create API key" }).click();
  const create = page.getByRole("dialog", { name: "Create API key" });
  await create.getByRole("button", { name: "Use the suggestion" }).click();
  await create.getByLabel("Name").fill("Ledger sync");
  await create.getByLabel("Or type scopes, one per line").fill("api_keys:read\n");
  await create.getByLabel("Expiration").selectOption("never");
  await create.getByRole("button", { name: "Create key" }).click();
  const oldKey = await takeSecret(page);
  expect(oldKey).toMatch(/^rk_live_/);

  const row = keyRow(page, "Ledger sync");
  const keyId = (await row.getAttribute("data-key-id"))!;
  const scopes = row.getByTestId("key-scopes");
  for (const scope of ["payment_intents:read", "reconciliation_cases:read", "api_keys:read"]) {
    await expect(scopes).toContainText(scope);
  }
  await expect(row.getByTestId("key-expires")).toHaveText("Never");
  const scopesText = await scopes.textContent();
  expect((await request.get(`/v1/api-keys/${keyId}`, { headers: bearer(oldKey) })).status()).toBe(200);

  // Rotate with no overlap.
  await row.getByRole("button", { name: "Manage" }).click();
  const detail = page.getByRole("dialog", { name: "Ledger sync" });
  await detail.getByLabel("Old secret expires").selectOption("now");
  await detail.getByRole("button", { name: "Rotate key" }).click();
  await expect(page.getByTestId("rotation-note")).toHaveText("The previous secret stopped working now.");
  const newKey = await takeSecret(page);
  expect(newKey).toMatch(/^rk_live_/);
  expect(newKey).not.toBe(oldKey);
  await expect(keyRow(page, "Ledger sync").getByTestId("key-prefix")).toHaveText(`${newKey.slice(0, 12)}…`);

  expect(await errorCode(request, `/v1/api-keys/${keyId}`, oldKey)).toEqual({ status: 401, code: "api_key_expired" });
  expect((await request.get(`/v1/api-keys/${keyId}`, { headers: bearer(newKey) })).status()).toBe(200);
  await expect(keyRow(page, "Ledger sync").getByTestId("previous-secret")).toHaveCount(0);

  // Rotate again with an hour's overlap: the list says the previous secret still works,
  // and until when.
  await keyRow(page, "Ledger sync").getByRole("button", { name: "Manage" }).click();
  await detail.getByLabel("Old secret expires").selectOption("1h");
  await detail.getByRole("button", { name: "Rotate key" }).click();
  await expect(page.getByTestId("rotation-note")).toHaveText("The previous secret keeps working for 1 hour.");
  const newestKey = await takeSecret(page);
  expect((await request.get(`/v1/api-keys/${keyId}`, { headers: bearer(newKey) })).status()).toBe(200);
  expect((await request.get(`/v1/api-keys/${keyId}`, { headers: bearer(newestKey) })).status()).toBe(200);
  const previous = keyRow(page, "Ledger sync").getByTestId("previous-secret");
  await expect(previous).toHaveText(/^Previous secret works until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  const until = Date.parse((await previous.textContent())!.replace("Previous secret works until ", "").replace(" UTC", "Z").replace(" ", "T"));
  expect(Math.abs(until - (Date.now() + 3_600_000))).toBeLessThan(120_000);

  // Duplicate: a new key, its own secret, the same scopes.
  await keyRow(page, "Ledger sync").getByRole("button", { name: "Manage" }).click();
  await page.getByRole("dialog", { name: "Ledger sync" }).getByRole("button", { name: "Duplicate key" }).click();
  const copyKey = await takeSecret(page);
  expect(copyKey).toMatch(/^rk_live_/);
  expect([oldKey, newKey]).not.toContain(copyKey);
  const copyRow = keyRow(page, "Ledger sync (copy)");
  await expect(copyRow).toHaveCount(1);
  await expect(copyRow.getByTestId("key-scopes")).toHaveText(scopesText!);
  await expect(copyRow.getByTestId("key-prefix")).toHaveText(`${copyKey.slice(0, 12)}…`);
  expect(await copyRow.getAttribute("data-key-id")).not.toBe(keyId);
});

test("a full-access test key shows Full access and can be disabled and enabled", async ({ page }) => {
  await signIn(page, ...OWNER);
  await ensureApp(page);

  await page.getByRole("button", { name: "Create API key" }).click();
  const create = page.getByRole("dialog", { name: "Create API key" });
  await create.getByLabel("Name").fill("Sandbox full access");
  await create.getByLabel("Test").check();
  await create.getByLabel("Full access").check();
  await expect(create.getByTestId("scope-picker")).toHaveCount(0);
  await create.getByLabel("Expiration").selectOption("30");
  await create.getByRole("button", { name: "Create key" }).click();
  const key = await takeSecret(page);
  expect(key).toMatch(/^sk_test_/);

  const row = keyRow(page, "Sandbox full access");
  await expect(row.getByTestId("key-scopes")).toHaveText("Full access");
  await expect(row.getByTestId("key-mode")).toHaveText("test");

  await row.getByRole("button", { name: "Manage" }).click();
  const detail = page.getByRole("dialog", { name: "Sandbox full access" });
  await expect(detail.getByTestId("scope-picker")).toHaveCount(0);
  await detail.getByRole("button", { name: "Disable key" }).click();
  await expect(detail.getByTestId("key-detail-status")).toHaveText("disabled");
  await expect(row.getByTestId("key-status")).toHaveText("disabled");
  await detail.getByRole("button", { name: "Enable key" }).click();
  await expect(detail.getByTestId("key-detail-status")).toHaveText("enabled");
  await expect(row.getByTestId("key-status")).toHaveText("enabled");
});

test("a key expiring within a week is flagged in the list and on the Overview", async ({ page }) => {
  await signIn(page, ...OWNER);
  await ensureApp(page);

  await page.getByRole("button", { name: "Create API key" }).click();
  const create = page.getByRole("dialog", { name: "Create API key" });
  await create.getByRole("button", { name: "Use the suggestion" }).click();
  await create.getByLabel("Name").fill("Short-lived partner key");
  await create.getByLabel("Expiration").selectOption("custom");
  await create.getByLabel("Number of days").fill("3");
  await create.getByRole("button", { name: "Create key" }).click();
  await takeSecret(page);

  const row = keyRow(page, "Short-lived partner key");
  await expect(row.getByTestId("expires-soon")).toHaveText("Expires soon");

  await page.getByRole("link", { name: "Overview" }).click();
  await hydrated(page);
  const warning = page.getByTestId("expiring-keys");
  await expect(warning).toContainText("Keys expiring soon");
  await expect(warning).toContainText("Short-lived partner key");
  await expect(warning).toContainText(APP_NAME);
});
