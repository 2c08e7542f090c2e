import { expect, test } from "@playwright/test";
import { serverFn } from "../support/server-fn";
import { signIn } from "../support/session";

const OWNER = ["owner@demo.gatehouse.test", "demo-owner-password-1"] as const;

test("wrong password is refused with one message, the email kept; the page loads no code", async ({ page }) => {
  const code: string[] = [];
  page.on("request", (request) => {
    if (/\.(js|wasm)(\?|$)/.test(request.url())) code.push(request.url());
  });
  await page.goto("/login");
  await expect(page.getByLabel("Email")).toBeFocused();
  await page.getByLabel("Email").fill(OWNER[0]);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Invalid email or password.");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByLabel("Email")).toHaveValue(OWNER[0]);
  await expect(page.getByLabel("Password")).toHaveValue("");
  await expect(page.getByLabel("Password")).toBeFocused();
  // Shown once: a reload is a fresh form.
  await page.reload();
  await expect(page.getByRole("alert")).toHaveText("");
  expect(code, "the sign-in page needs none of the dashboard's code").toEqual([]);
  await page.getByLabel("Email").fill(OWNER[0]);
  await page.getByLabel("Password").fill(OWNER[1]);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/settings/developers");
  await page.locator("#root[data-hydrated]").waitFor();
});

test("owner sees the tabs, creates an app and selects it", async ({ page }) => {
  await signIn(page, ...OWNER);
  const tabs = page.getByRole("navigation", { name: "Developers" });
  for (const name of ["Overview", "Apps", "API keys", "Webhooks", "Logs", "Usage", "Docs", "API status", "Integration logs"]) {
    await expect(tabs.getByRole("link", { name, exact: true })).toBeVisible();
  }
  await expect(page.getByTestId("plan-card")).toContainText("pro");

  await tabs.getByRole("link", { name: "Apps", exact: true }).click();
  await page.getByLabel("Name").fill("Checkout");
  await page.getByLabel("Allowed browser origins (one per line)").fill("https://shop.example.com/cart");
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page.locator('[data-field="allowed_origins"]')).toContainText("is not an origin");
  await expect(page.locator(".app-row")).toHaveCount(0);

  await page.getByLabel("Allowed browser origins (one per line)").fill("https://shop.example.com");
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page.locator(".app-row", { hasText: "Checkout" })).toBeVisible();

  await page.getByLabel("Name").fill("Billing");
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page.locator(".app-row")).toHaveCount(2);

  await page.reload();
  await page.locator("#root[data-hydrated]").waitFor();
  await expect(page.locator(".app-row", { hasText: "Checkout" })).toContainText("https://shop.example.com");
  const billing = page.locator(".app-row", { hasText: "Billing" });
  await billing.getByRole("button", { name: "Select" }).click();
  await expect(billing).toContainText("Selected");
  // The success notice goes away on its own.
  const notice = page.getByRole("status").filter({ hasText: "Billing is now the selected app." });
  await expect(notice).toBeVisible();
  await expect(notice).toBeHidden({ timeout: 10_000 });

  await tabs.getByRole("link", { name: "Overview", exact: true }).click();
  await expect(page.getByTestId("selected-app")).toContainText("Billing");
  await expect(page.getByTestId("app-count")).toHaveText("2");

  await tabs.getByRole("link", { name: "Integration logs", exact: true }).click();
  await expect(page.getByTestId("integration-logs").locator("tbody tr").first()).toContainText("App Billing created");
});

test("Integration logs page through the latest events with buttons named as they read", async ({ page }) => {
  await signIn(page, ...OWNER);
  // Six audited choices: the latest events fill more than one page of five.
  for (const enabled of [false, true, false, true, false, true]) {
    await serverFn(page.request, "set_alert_preference", { preference: { kind: "usage_80", enabled } });
  }
  await page
    .getByRole("navigation", { name: "Developers" })
    .getByRole("link", { name: "Integration logs", exact: true })
    .click();
  const pager = page.locator(".pager");
  const previous = pager.getByRole("button", { name: "Previous", exact: true });
  const next = pager.getByRole("button", { name: "Next", exact: true });
  await expect(next).toHaveText("Next");
  await expect(previous).toBeDisabled();
  await expect(pager.locator("span")).toHaveText(/^Page 1 of ([2-9]|1\d|20)$/);
  await expect(page.getByTestId("integration-logs").locator("tbody tr").first()).toContainText('Alerts "Live usage passed 80 % of the monthly limit" turned on');
  await next.click();
  await expect(pager.locator("span")).toHaveText(/^Page 2 of \d+$/);
  await expect(previous).toBeEnabled();
  await expect(page.getByTestId("integration-logs").locator("tbody tr").first()).toBeVisible();
  await previous.click();
  await expect(pager.locator("span")).toHaveText(/^Page 1 of \d+$/);
});

test("API status shows Operational", async ({ page }) => {
  await signIn(page, ...OWNER);
  await page.getByRole("navigation", { name: "Developers" }).getByRole("link", { name: "API status" }).click();
  await expect(page.getByTestId("api-status")).toHaveText("Operational");
  await expect(page.getByTestId("last-success")).toContainText("UTC");
});

test("a member gets the no-access page", async ({ page }) => {
  await signIn(page, "member@demo.test", "member-password-1");
  await expect(page.getByRole("heading", { name: "You don't have access to Developers" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Developers" })).toHaveCount(0);
});

test("a tenant without platform.api sees the Pro badge and the locked state", async ({ page }) => {
  await signIn(page, "owner@free.test", "free-owner-password-1");
  await expect(page.locator(".nav-link .badge.pro")).toHaveText("Pro");
  await expect(page.getByRole("heading", { name: "Developers is a Pro feature" })).toBeVisible();
});

test("signing out ends the session", async ({ page }) => {
  await signIn(page, ...OWNER);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL("**/login");
  await page.goto("/settings/developers");
  await page.waitForURL("**/login");
});
