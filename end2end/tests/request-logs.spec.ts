import { expect, Page, test } from "@playwright/test";
import { serverFn } from "../support/server-fn";
import { hydrated, signIn } from "../support/session";

// A Pro tenant of its own (see serve-for-tests.sh), so its request log holds only the
// calls this spec makes.
const OWNER = ["owner@logs.test", "logs-owner-password-1"] as const;

async function createKey(page: Page, appId: string, name: string, mode: string, scopes?: string[]) {
  const created = await serverFn(page.request, "create_api_key", {
    input: scopes
      ? { app_id: appId, name, mode, key_type: "restricted", scopes }
      : { app_id: appId, name, mode, key_type: "secret" },
  });
  return { id: created.key.id as string, secret: created.plaintext as string };
}

/** Clicks "Apply filters" until the list shows `count` rows (the log is written each second). */
async function expectRows(page: Page, count: number) {
  const rows = page.getByTestId("request-row");
  await expect(async () => {
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(rows).toHaveCount(count, { timeout: 1_000 });
  }).toPass({ timeout: 10_000 });
  return rows;
}

test("the Logs page lists the selected app's requests by filter and mode, and a key shows its own", async ({ page }) => {
  await signIn(page, ...OWNER);
  // Setup: the tenant's first app (so the selected one), a live key that may read apps
  // only, and a test key; then calls made with them as a client would.
  const app = await serverFn(page.request, "create_app", { input: { name: "Logged app" } });
  const live = await createKey(page, app.id, "Orders sync", "live", ["apps:read"]);
  const test_key = await createKey(page, app.id, "Sandbox", "test");
  const api = (path: string, key: string) =>
    page.request.get(path, { headers: { authorization: `Bearer ${key}` } });
  expect((await api("/v1/whoami", live.secret)).status()).toBe(200);
  const refused = await api("/v1/api-keys", live.secret);
  expect(refused.status()).toBe(403);
  const refusedId = refused.headers()["request-id"];
  expect(refusedId).toMatch(/^req_/);
  const verified = await page.request.post("/v1/keys/verify", { data: { key: live.secret } });
  expect((await verified.json()).code).toBe("VALID");
  expect((await api("/v1/apps", test_key.secret)).status()).toBe(200);

  // The Logs tab: the live side of the selected app, newest first.
  const tabs = page.getByRole("navigation", { name: "Developers" });
  await tabs.getByRole("link", { name: "Logs", exact: true }).click();
  await page.waitForURL("**/settings/developers/logs");
  await hydrated(page);
  await expect(page.getByTestId("logs-app")).toContainText(`Logged app (${app.id})`);
  const rows = await expectRows(page, 3);
  await expect(rows.nth(0)).toContainText("POST /v1/keys/verify");
  await expect(rows.nth(0)).toContainText("VALID");
  await expect(rows.nth(1)).toContainText("GET /v1/api-keys");
  await expect(rows.nth(1)).toHaveAttribute("data-status", "403");
  await expect(rows.nth(1)).toContainText("insufficient_scope");
  await expect(rows.nth(2)).toContainText("GET /v1/whoami");
  await expect(page.getByTestId("request-logs")).not.toContainText("/v1/apps");

  // Filtered to client errors: the refusal alone, which opens to all that was recorded.
  await page.getByLabel("Status").selectOption("4xx");
  await expectRows(page, 1);
  await rows.first().getByRole("button", { name: "Details" }).click();
  const detail = page.getByTestId("request-detail");
  await expect(detail).toContainText(refusedId);
  await expect(detail).toContainText(live.id);
  await expect(detail).toContainText("127.0.0.1");
  await expect(detail).toContainText("/v1/api-keys");
  await rows.first().getByRole("button", { name: "Hide" }).click();
  await expect(detail).toHaveCount(0);
  // By error code and route: the same one; by a route with no calls: none.
  await page.getByLabel("Status").selectOption("");
  await page.getByLabel("Error code").selectOption("insufficient_scope");
  await expectRows(page, 1);
  await page.getByLabel("Error code").selectOption("");
  await page.getByLabel("Route").fill("/v1/whoami");
  await expectRows(page, 1);
  await page.getByLabel("Route").fill("/v1/webhooks");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page.getByTestId("logs-empty")).toContainText("No live requests match these filters.");
  // A key id that is no id is refused beside its field, and nothing is asked.
  await page.getByLabel("Route").fill("");
  await page.getByLabel("Key id").fill("orders");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page.locator('[data-field="key_id"]')).toContainText("Use a key id");
  await page.getByLabel("Key id").fill(live.id);
  await expectRows(page, 3);
  await expect(page.locator('[data-field="key_id"]')).toHaveText("");

  // Test mode apart: the test key's call only.
  await page.getByRole("button", { name: "Clear" }).click();
  await page.getByTestId("logs-mode-test").click();
  await expect(page.getByTestId("logs-mode-test")).toHaveAttribute("aria-pressed", "true");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("GET /v1/apps");
  await expect(page.getByTestId("request-logs")).not.toContainText("/v1/whoami");

  // No credential is on the page.
  const text = await page.locator("body").innerText();
  expect(text).not.toContain(live.secret);
  expect(text).not.toContain(test_key.secret);

  // A row's key name opens that key on the API keys tab.
  await rows.first().getByTestId("request-key").click();
  await page.waitForURL(`**/settings/developers/api-keys?key=${test_key.id}`);
  const linked = page.getByTestId("key-detail");
  await expect(linked).toHaveAttribute("data-key-id", test_key.id);
  await expect(linked).toContainText("Sandbox");
  // Its activity: the one call, this hour and today.
  const activity = linked.getByTestId("key-activity-chart");
  await expect(activity.getByTestId("usage-totals")).toHaveText("1 successful, 0 failed");
  await activity.locator("svg").focus();
  // Focused, the readout names the last hour (this one).
  await expect(activity.getByTestId("chart-readout")).toHaveText(/^\d{4}-\d\d-\d\d \d\d:00 UTC: [01] successful, 0 failed$/);
  await linked.getByTestId("activity-days").click();
  await expect(linked.getByTestId("activity-days")).toHaveAttribute("aria-pressed", "true");
  await expect(activity.getByTestId("usage-totals")).toHaveText("1 successful, 0 failed");
  await expect(activity.locator(".usage-bar")).toHaveCount(30);
  await linked.press("Escape");
  await expect(linked).toHaveCount(0);

  // The live key's detail shows its latest requests.
  await tabs.getByRole("link", { name: "API keys", exact: true }).click();
  await page.waitForURL("**/settings/developers/api-keys");
  await page.locator(`[data-testid="key-row"][data-key-id="${live.id}"]`).getByRole("button", { name: "Manage" }).click();
  const recent = page.getByTestId("key-detail").getByTestId("key-request-rows").getByTestId("request-row");
  await expect(recent).toHaveCount(3);
  await expect(recent.first()).toContainText("POST /v1/keys/verify");
  await expect(recent.nth(1)).toHaveAttribute("data-status", "403");
});
