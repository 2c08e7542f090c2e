import { expect, Page, test } from "@playwright/test";
import { serverFn } from "../support/server-fn";
import { hydrated, signIn } from "../support/session";

// A Pro tenant of its own (see serve-for-tests.sh), so its audit trail holds only what
// this spec does.
const OWNER = ["owner@audit.test", "audit-owner-password-1"] as const;

async function createKey(page: Page, appId: string, name: string): Promise<string> {
  const created = await serverFn(page.request, "create_api_key", {
    input: { app_id: appId, name, mode: "live", key_type: "secret" },
  });
  expect(created.key.id).toMatch(/^key_/);
  return created.key.id;
}

test("the Audit page filters to one key's events and shows what its edit changed", async ({ page }) => {
  await signIn(page, ...OWNER);
  const tabs = page.getByRole("navigation", { name: "Developers" });

  // Setup: an app made in the Apps tab, two keys, and an edit of the first one.
  await tabs.getByRole("link", { name: "Apps", exact: true }).click();
  await page.getByLabel("Name").fill("Audited app");
  await page.getByRole("button", { name: "Create app" }).click();
  const app = page.locator(".app-row", { hasText: "Audited app" });
  await expect(app).toBeVisible();
  const appId = (await app.getAttribute("data-app-id"))!;
  const orders = await createKey(page, appId, "Orders sync");
  const billing = await createKey(page, appId, "Billing export");
  await serverFn(page.request, "update_api_key", {
    key_id: orders,
    update: { name: "Orders sync v2", scopes: null, description: "Pushes orders nightly" },
  });

  // The Audit tab sits beside Integration logs and lists everything, newest first.
  await tabs.getByRole("link", { name: "Audit", exact: true }).click();
  await page.waitForURL("**/settings/developers/audit");
  await hydrated(page);
  const rows = page.getByTestId("audit-row");
  await expect(rows.first()).toHaveAttribute("data-event-type", "api_key.updated");
  await expect(page.getByTestId("audit-events")).toContainText("API key Billing export created");
  await expect(page.getByTestId("audit-events")).toContainText("App Audited app created");

  // Filtered by the first key's id: its two events only, the other key's gone.
  await page.getByLabel("Related id").fill(orders);
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveAttribute("data-event-type", "api_key.updated");
  await expect(rows.nth(0)).toContainText("API key Orders sync v2 updated");
  await expect(rows.nth(1)).toHaveAttribute("data-event-type", "api_key.created");
  await expect(rows.nth(1)).toContainText("API key Orders sync created");
  await expect(rows.nth(1)).toContainText(OWNER[0]);
  await expect(page.getByTestId("audit-events")).not.toContainText("Billing export");

  // Opening the edit shows its before and after: what changed, nothing else.
  await rows.nth(0).getByRole("button", { name: "Details" }).click();
  const detail = page.getByTestId("audit-detail");
  await expect(detail).toHaveCount(1);
  await expect(detail.getByTestId("related-id").filter({ hasText: orders })).toHaveCount(1);
  const changes = detail.getByTestId("audit-change");
  await expect(changes).toHaveCount(2);
  const name = detail.locator('[data-testid="audit-change"][data-field="name"]');
  await expect(name).toHaveAttribute("data-change", "changed");
  await expect(name.locator(".before")).toHaveText("Orders sync");
  await expect(name.locator(".after")).toHaveText("Orders sync v2");
  const description = detail.locator('[data-testid="audit-change"][data-field="description"]');
  await expect(description.locator(".before")).toHaveText("(empty)");
  await expect(description.locator(".after")).toHaveText("Pushes orders nightly");
  await rows.nth(0).getByRole("button", { name: "Hide" }).click();
  await expect(detail).toHaveCount(0);

  // The other key by type and id; a bad actor id is refused beside its field.
  await page.getByLabel("Related id").fill(billing);
  await page.getByLabel("Event type").selectOption("api_key.updated");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page.getByTestId("audit-empty")).toBeVisible();
  await page.getByLabel("Event type").selectOption("api_key.created");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("API key Billing export created");

  // The applied filter is in the URL: a reload (or the link, shared) shows the same view.
  expect(new URL(page.url()).search).toBe(`?event_type=api_key.created&related_id=${billing}`);
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel("Related id")).toHaveValue(billing);
  await expect(page.getByLabel("Event type")).toHaveValue("api_key.created");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("API key Billing export created");

  await page.getByLabel("Actor id").fill("someone");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page.locator('[data-field="actor_id"]')).toContainText("Use the id of a user");
  await page.getByRole("button", { name: "Clear" }).click();
  expect(new URL(page.url()).search).toBe("");
  await expect(page.locator('[data-field="actor_id"]')).toHaveText("");
  await expect(page.getByLabel("Related id")).toHaveValue("");
  await expect(rows.first()).toHaveAttribute("data-event-type", "api_key.updated");
  expect(await rows.count()).toBeGreaterThanOrEqual(6);
});
