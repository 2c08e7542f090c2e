import { expect, Page, test } from "@playwright/test";
import { hydrated, signIn } from "../support/session";

// Tenants of their own (see serve-for-tests.sh): "Usage Company" on the Pro plan, and
// "Limited Company" whose operator set a monthly limit of 2 live calls.
const USAGE_OWNER = ["owner@usage.test", "usage-owner-password-1"] as const;
const LIMITED_OWNER = ["owner@limited.test", "limited-owner-password-1"] as const;

/** Creates an app (the first is selected) and a live full-access key with a rate limit
 * of 50 a minute through the dashboard; answers the key's plaintext. */
async function appAndLiveKey(page: Page, appName: string): Promise<string> {
  await page.goto("/settings/developers/apps");
  await hydrated(page);
  await page.getByLabel("Name").fill(appName);
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page.locator(".app-row.selected", { hasText: appName })).toBeVisible();
  await page.goto("/settings/developers/api-keys");
  await hydrated(page);
  await page.getByTestId("keys-empty").getByRole("button", { name: "Create API key" }).click();
  const create = page.getByRole("dialog", { name: "Create API key" });
  await create.getByLabel("Name").fill("Usage probe");
  await create.getByLabel("Live").check();
  await create.getByLabel("Full access").check();
  // A bad rate limit is refused beside its field, and the dialog keeps the input.
  await create.getByLabel("Requests", { exact: true }).fill("0");
  await create.getByRole("button", { name: "Create key" }).click();
  await expect(create.locator('[data-field="rate_limit"]')).toContainText("1 to");
  await expect(create.getByLabel("Name")).toHaveValue("Usage probe");
  await create.getByLabel("Requests", { exact: true }).fill("50");
  await create.getByRole("button", { name: "Create key" }).click();
  const secret = page.getByRole("dialog", { name: "Save your API key" });
  const plaintext = (await secret.getByTestId("one-time-plaintext").textContent())!.trim();
  await secret.getByRole("button", { name: "Done" }).click();
  return plaintext;
}

test("the Usage chart shows the calls made, split by outcome, for the tenant and the app", async ({
  page,
  request,
}) => {
  test.setTimeout(60_000);
  await signIn(page, ...USAGE_OWNER);
  const key = await appAndLiveKey(page, "Usage app");
  const headers = { Authorization: `Bearer ${key}` };
  for (let call = 0; call < 3; call++) {
    const answer = await request.get("/v1/whoami", { headers });
    expect(answer.status()).toBe(200);
    expect(answer.headers()["ratelimit-policy"]).toMatch(/^"key";q=50;w=60, "monthly";q=100000;w=\d+$/);
  }
  expect((await request.get("/v1/apps/app_00000000000000000000000000", { headers })).status()).toBe(404);

  // Counts are written about once a second: reload until they show.
  await page.goto("/settings/developers/usage");
  await hydrated(page);
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await expect(page.getByTestId("usage-totals")).toHaveText("3 successful, 1 failed", { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId("usage-used")).toHaveText("4");
  await expect(page.getByTestId("usage-paywall-state")).toHaveText("Calls allowed");
  const chart = page.getByTestId("usage-chart");
  await expect(chart.getByRole("img")).toHaveAccessibleName(/3 successful, 1 failed/);
  const today = new Date().toISOString().slice(0, 10);
  await expect(chart.locator("g.usage-bar title", { hasText: `${today}: 3 successful, 1 failed` })).toHaveCount(1);
  // Pointed at, a day's figures show beside the chart; focused, the chart reads a day
  // at a time with the arrow keys.
  const readout = page.getByTestId("chart-readout");
  await chart.locator("g.usage-bar", { has: page.locator("title", { hasText: today }) }).hover();
  await expect(readout).toHaveText(`${today}: 3 successful, 1 failed`);
  await chart.getByRole("img").focus();
  await page.keyboard.press("Home");
  const first = await readout.textContent();
  expect(first).toMatch(/^\d{4}-\d\d-\d\d: \d+ successful, \d+ failed$/);
  await page.keyboard.press("ArrowRight");
  await expect(readout).not.toHaveText(first!);
  await expect(readout).toHaveText(/^\d{4}-\d\d-\d\d: \d+ successful, \d+ failed$/);
  // Its labels are readable at any width: 12 px on a phone as on a desktop.
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 800 });
    const sizes = await chart.locator(".axis-label").evaluateAll((labels) => labels.map((label) => parseFloat(getComputedStyle(label).fontSize)));
    expect(sizes.length).toBeGreaterThanOrEqual(5);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(12);
  }
  await page.setViewportSize({ width: 1280, height: 720 });

  // The table behind the chart holds the same figures.
  await page.getByText("The same figures as a table").click();
  const row = page.getByTestId("usage-table").getByRole("row", { name: today });
  await expect(row).toContainText("3");
  await expect(row).toContainText("1");

  // The selected app made all of them.
  await page.getByTestId("usage-selected-app").click();
  await expect(page.getByTestId("usage-selected-app")).toHaveAttribute("aria-pressed", "true");
  await expect(chart.getByRole("img")).toHaveAccessibleName(/Usage app.*3 successful, 1 failed/);
});

test("a tenant over its monthly limit sees over_limit and its calls get 429", async ({ page, request }) => {
  test.setTimeout(60_000);
  await signIn(page, ...LIMITED_OWNER);
  const key = await appAndLiveKey(page, "Limited app");
  const headers = { Authorization: `Bearer ${key}` };
  const statuses = [];
  for (let call = 0; call < 3; call++) {
    statuses.push((await request.get("/v1/whoami", { headers })).status());
  }
  expect(statuses).toEqual([200, 200, 429]);
  const refused = await request.get("/v1/whoami", { headers });
  expect((await refused.json()).error.code).toBe("usage_exceeded");
  expect(Number(refused.headers()["retry-after"])).toBeGreaterThan(0);

  await page.goto("/settings/developers");
  await hydrated(page);
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await expect(page.getByTestId("paywall-state")).toHaveAttribute("data-state", "over_limit", { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await page.goto("/settings/developers/usage");
  await hydrated(page);
  await expect(page.getByTestId("usage-paywall-state")).toHaveText("Blocked: this month's call limit is used up");
  await expect(page.getByTestId("usage-used")).toHaveText("2");
  await expect(page.getByTestId("usage-limit")).toHaveText("2");
});
