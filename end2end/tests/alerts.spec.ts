import { expect, test } from "@playwright/test";
import { serverFn } from "../support/server-fn";
import { hydrated, signIn } from "../support/session";

// A Pro tenant of its own with a monthly limit of 10 calls (see serve-for-tests.sh).
// This server has no SMTP server configured: alerts are notices only.
const OWNER = ["owner@alerts.test", "alerts-owner-password-1"] as const;

test("usage past 80 % shows as a notice on the Overview until dismissed, and a kind can be turned off", async ({ page }) => {
  await signIn(page, ...OWNER);
  const app = await serverFn(page.request, "create_app", { input: { name: "Metered app" } });
  const key = await serverFn(page.request, "create_api_key", { input: { app_id: app.id, name: "Meter", mode: "live", key_type: "secret" } });
  for (let call = 0; call < 8; call++) {
    const answer = await page.request.get("/v1/whoami", { headers: { authorization: `Bearer ${key.plaintext}` } });
    expect(answer.status()).toBe(200);
  }

  // Counted within a second and checked every 5 s: the notice appears on the Overview.
  const notice = page.getByTestId("alert-notice");
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await expect(notice).toHaveCount(1, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(notice).toHaveAttribute("data-kind", "usage_80");
  await expect(notice).toContainText("Alerts Company has used 80 % of its monthly API calls");
  await expect(notice).toContainText("8 of 10 live platform calls");
  await expect(notice.getByRole("link", { name: "Open" })).toHaveAttribute("href", "/settings/developers/usage");
  expect(await page.locator("body").innerText()).not.toContain(key.plaintext);

  // Dismissed: gone, and still gone after a reload.
  await notice.getByRole("button", { name: "Dismiss" }).click();
  await expect(notice).toHaveCount(0);
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("plan-card")).toBeVisible();
  await expect(notice).toHaveCount(0);

  // The choices: every kind on, this server sends no email; one turned off stays off.
  const choices = page.getByTestId("alert-choices");
  await choices.getByText("Alerts", { exact: true }).click();
  await expect(choices).toContainText("sends no email");
  const atLimit = choices.getByLabel("Live usage reached the monthly limit");
  await expect(atLimit).toBeChecked();
  await atLimit.uncheck();
  await page.waitForLoadState("networkidle");
  await page.reload();
  await hydrated(page);
  await page.getByTestId("alert-choices").getByText("Alerts", { exact: true }).click();
  await expect(page.getByTestId("alert-choices").getByLabel("Live usage reached the monthly limit")).not.toBeChecked();
  await expect(page.getByTestId("alert-choices").getByLabel("An API key expires within 7 days")).toBeChecked();
});
