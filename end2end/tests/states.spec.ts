// The dashboard's states around a load: a tab that fails to load says so where its
// content would be and loads again on "Try again"; opening the tabs one after another
// moves nothing already on the screen (loading placeholders hold the place).
import { expect, test } from "@playwright/test";
import { signIn } from "../support/session";

const OWNER = ["owner@states.test", "states-owner-password-1"] as const;
const TABS = ["Apps", "API keys", "Webhooks", "Logs", "Usage", "Docs", "API status", "Integration logs", "Audit", "Overview"];

test("a tab that fails to load shows the error in place and loads on retry", async ({ page }) => {
  await signIn(page, ...OWNER);
  const tabs = page.getByRole("navigation", { name: "Developers" });
  // The network drops the Apps tab's first load (the server is never asked).
  let dropped = 0;
  await page.route("**/api/load_apps*", async (route) => {
    dropped += 1;
    await route.abort("connectionrefused");
  });
  await tabs.getByRole("link", { name: "Apps", exact: true }).click();
  const failure = page.getByTestId("load-error");
  await expect(failure).toBeVisible();
  await expect(failure).toHaveAttribute("role", "alert");
  expect((await failure.textContent())!.trim().length).toBeGreaterThan("Try again".length);
  expect(dropped).toBe(1);
  // The rest of the tab is still there: the form to create an app.
  await expect(page.getByRole("button", { name: "Create app" })).toBeVisible();

  await page.unroute("**/api/load_apps*");
  await failure.getByRole("button", { name: "Try again" }).click();
  await expect(page.getByText("No apps yet. Create the first one with the form.")).toBeVisible();
  await expect(failure).toBeHidden();
});

test("opening every tab in turn shifts nothing already shown", async ({ page }) => {
  await signIn(page, ...OWNER);
  // Every layout shift, counted even right after the click (the browser's CLS leaves
  // those out): what moves while a tab's code and data arrive.
  await page.evaluate(() => {
    const shifts: { tab: string; value: number; sources: string[] }[] = [];
    (window as unknown as { shifts: typeof shifts }).shifts = shifts;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as unknown as { value: number; sources?: { node?: Node }[] }[]) {
        shifts.push({
          tab: (window as unknown as { tab: string }).tab,
          value: entry.value,
          sources: (entry.sources ?? []).map((source) => {
            const node = source.node as Element | undefined;
            return node?.outerHTML?.slice(0, 80) ?? String(source.node);
          }),
        });
      }
    }).observe({ type: "layout-shift" });
  });
  const tabs = page.getByRole("navigation", { name: "Developers" });
  for (const name of TABS) {
    await page.evaluate((name) => ((window as unknown as { tab: string }).tab = name), name);
    await tabs.getByRole("link", { name, exact: true }).click();
    await expect(page).toHaveTitle(`${name} · Developers · Gatehouse`);
    await page.waitForLoadState("networkidle");
    await expect(page.locator(".loading, [aria-busy=true]")).toHaveCount(0);
  }
  const shifts = await page.evaluate(() => (window as unknown as { shifts: { tab: string; value: number; sources: string[] }[] }).shifts);
  const total = shifts.reduce((sum, shift) => sum + shift.value, 0);
  expect(total, JSON.stringify(shifts, null, 1)).toBeLessThan(0.01);
});
