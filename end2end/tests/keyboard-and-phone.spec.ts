// The dashboard without a mouse and on a phone: the create-key flow by keyboard alone
// (focus stays in the dialog, Escape closes it, focus returns to the button that opened
// it, the copy is announced to screen readers), and every tab at 1280, 1000 and 390 px
// wide without the page scrolling sideways (on a phone its tables as cards), compared
// with a reviewed screenshot.
import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { hydrated, signIn } from "../support/session";

const OWNER = ["owner@keyboard.test", "keyboard-owner-password-1"] as const;

/** The text of the element that has focus. */
const focused = (page: Page) => page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
const focusInside = (page: Page, selector: string) =>
  page.evaluate((selector) => !!document.activeElement?.closest(selector), selector);

test("creating a key works with the keyboard alone", async ({ page, context, baseURL }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  await signIn(page, ...OWNER);
  // An app to create the key for (with the mouse: the keyboard part is the key).
  await page.getByRole("navigation", { name: "Developers" }).getByRole("link", { name: "Apps", exact: true }).click();
  await page.getByLabel("Name").fill("Keyboard app");
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page.locator(".app-row.selected", { hasText: "Keyboard app" })).toBeVisible();
  await page.getByRole("navigation", { name: "Developers" }).getByRole("link", { name: "API keys", exact: true }).click();

  const opener = page.getByTestId("keys-empty").getByRole("button", { name: "Create API key" });
  await opener.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Name")).toBeFocused();

  // Tab and Shift+Tab never leave the dialog, however often they are pressed.
  for (let press = 0; press < 60; press++) {
    await page.keyboard.press("Tab");
    expect(await focusInside(page, '[role="dialog"]'), `Tab ${press + 1}`).toBe(true);
  }
  for (let press = 0; press < 5; press++) {
    await page.keyboard.press("Shift+Tab");
    expect(await focusInside(page, '[role="dialog"]')).toBe(true);
  }

  // Escape closes it and focus is back on the button that opened it.
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(opener).toBeFocused();

  // Again, and this time create the key: type the name, submit with Enter. No scope is
  // ticked yet: the refusal moves focus to the scopes, whose first control takes the
  // catalog's suggestion; back on the name, Enter submits again.
  await page.keyboard.press("Enter");
  await expect(dialog.getByLabel("Name")).toBeFocused();
  await page.keyboard.type("Keyboard integration");
  await page.keyboard.press("Enter");
  await expect(dialog.locator('[data-field="scopes"]')).toContainText("at least one scope");
  await expect(dialog.getByRole("button", { name: "Use the suggestion" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(dialog.locator('input[value="payment_intents:read"]')).toBeChecked();
  for (let press = 0; press < 10 && !(await dialog.getByLabel("Name").evaluate((input) => input === document.activeElement)); press++) {
    await page.keyboard.press("Shift+Tab");
  }
  await expect(dialog.getByLabel("Name")).toBeFocused();
  await page.keyboard.press("Enter");
  const secret = page.getByRole("dialog", { name: "Save your API key" });
  await expect(secret).toBeVisible();

  // Reach the copy button with Tab and press it: the copy is announced.
  for (let press = 0; press < 10 && (await focused(page)) !== "Copy"; press++) {
    await page.keyboard.press("Tab");
  }
  expect(await focused(page)).toBe("Copy");
  await page.keyboard.press("Enter");
  await expect(secret.getByRole("status")).toHaveText("Copied to the clipboard.");
  const shown = (await secret.getByTestId("one-time-plaintext").textContent())!.trim();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(shown);

  // Escape closes the secret (it was copied) and focus returns to where the flow began.
  await page.keyboard.press("Escape");
  await expect(secret).toBeHidden();
  await expect(page.getByRole("button", { name: "Create API key" }).first()).toBeFocused();
});

test("adding a webhook endpoint works with the keyboard alone", async ({ page }) => {
  // The app made by the key test above is the selected one.
  await signIn(page, ...OWNER);
  await page.getByRole("navigation", { name: "Developers" }).getByRole("link", { name: "Webhooks", exact: true }).click();
  const opener = page.getByTestId("create-endpoint");
  await opener.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByTestId("create-endpoint-dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Endpoint URL")).toBeFocused();

  for (let press = 0; press < 40; press++) {
    await page.keyboard.press("Tab");
    expect(await focusInside(page, '[role="dialog"]'), `Tab ${press + 1}`).toBe(true);
  }
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(opener).toBeFocused();

  // Escape on a half-filled form asks before it throws the input away.
  await page.keyboard.press("Enter");
  await expect(dialog.getByLabel("Endpoint URL")).toBeFocused();
  await page.keyboard.type("http://127.0.0.1:9/half");
  await page.keyboard.press("Escape");
  await expect(dialog.getByTestId("discard-warning")).toHaveText(/^Discard what you entered\?/);
  await expect(dialog.getByLabel("Endpoint URL")).toHaveValue("http://127.0.0.1:9/half");
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(opener).toBeFocused();

  // Open again, type the URL (an address the tests' operator allows; nothing is sent
  // on creation) and submit with Enter.
  await page.keyboard.press("Enter");
  await expect(dialog.getByLabel("Endpoint URL")).toBeFocused();
  await expect(dialog.getByLabel("Endpoint URL")).toHaveValue("");
  await page.keyboard.type("http://127.0.0.1:9/keyboard-hook");
  await page.keyboard.press("Enter");
  const secret = page.getByTestId("secret-dialog");
  await expect(secret).toContainText("Save your signing secret");
  expect(await focusInside(page, '[data-testid="secret-dialog"]')).toBe(true);
  // Escape before the secret was copied asks first; a second Escape closes.
  await page.keyboard.press("Escape");
  await expect(secret.getByTestId("not-copied")).toHaveText(/^Have you copied the signing secret\? It cannot be shown again\./);
  await expect(secret).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(secret).toBeHidden();
  await expect(page.getByTestId("endpoint-row")).toContainText("http://127.0.0.1:9/keyboard-hook");
  await expect(page.getByTestId("create-endpoint")).toBeFocused();
});

test("a skip link and one Tab stop per scope area keep the keyboard path short", async ({ page }) => {
  await signIn(page, ...OWNER);
  await page.goto("/settings/developers/api-keys");
  await hydrated(page);
  // The page's first Tab stop skips the navigation; the next reaches the tab's controls.
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to the tab's content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press("Enter");
  let presses = 0;
  for (; presses < 10 && (await focused(page)) !== "Create API key"; presses++) {
    await page.keyboard.press("Tab");
  }
  expect(presses, "Tabs from the skip link to Create API key").toBeLessThanOrEqual(2);
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await expect(dialog.getByLabel("Name")).toBeFocused();

  // An area's accesses are one Tab stop; the arrow keys move between them and areas.
  const value = () => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.value ?? "");
  presses = 0;
  for (; presses < 40 && (await value()) !== "apps:read"; presses++) {
    await page.keyboard.press("Tab");
  }
  expect(await value()).toBe("apps:read");
  await page.keyboard.press("ArrowRight");
  expect(await value()).toBe("apps:write");
  await page.keyboard.press("ArrowDown");
  expect(await value()).toBe("api_keys:write");
  await page.keyboard.press("Space");
  await expect(dialog.locator('input[value="api_keys:write"]')).toBeChecked();
  await page.keyboard.press("Tab");
  expect(await value(), "Tab leaves the area for the next one").toBe("webhook_endpoints:read");
  let toCreate = 0;
  for (; toCreate < 60 && (await focused(page)) !== "Create key"; toCreate++) {
    await page.keyboard.press("Tab");
  }
  // From the Name field: a stop per field and per scope area, not one per checkbox.
  expect(presses + 2 + toCreate, "Tabs from Name to Create key").toBeLessThanOrEqual(28);
  await page.keyboard.press("Escape");
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
});

/** The tabs that list records in this tenant by the time the phone test runs, and their tables. */
const WITH_RECORDS: Record<string, string> = {
  "API keys": "keys-table",
  Webhooks: "endpoints-table",
  "Integration logs": "integration-logs",
  Audit: "audit-events",
};

// At a laptop's width, framed in a SaaS's settings page, and on a phone: each tab against
// its reviewed picture at that width.
for (const viewport of [
  { width: 1280, height: 800 },
  { width: 1000, height: 800 },
  { width: 390, height: 844 },
]) {
  const phone = viewport.width < 760;
  test.describe(`at ${viewport.width} px`, () => {
    test.use({ viewport });

    test(`every tab fits ${viewport.width} px without sideways scrolling${phone ? ", records as cards" : ""}`, async ({ page }) => {
      await signIn(page, ...OWNER);
      const tabs = page.getByRole("navigation", { name: "Developers" });
      for (const name of ["Overview", "Apps", "API keys", "Webhooks", "Logs", "Usage", "Docs", "API status", "Integration logs", "Audit"]) {
        await tabs.getByRole("link", { name, exact: true }).click();
        await expect(page).toHaveTitle(`${name} · Developers · Gatehouse`);
        await page.waitForLoadState("networkidle");
        await expect(page.locator(".loading, [aria-busy=true]")).toHaveCount(0);
        const records = WITH_RECORDS[name];
        if (records) await expect(page.getByTestId(records)).toBeVisible();
        await expect(tabs.getByRole("link", { name, exact: true })).toBeInViewport();
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${name} is wider than the screen by ${overflow} px`).toBeLessThanOrEqual(0);
        // Tables of records turn into one card per record, each value under its
        // column's name, none wider than the screen.
        if (records && phone) {
          // One read of the page, so that what is compared belongs to one table.
          const card = await page.getByTestId(records).evaluate((table) => {
            const cells = [...table.querySelectorAll(":scope > tbody > tr:first-child > td[data-label]")];
            const [first, second] = cells.map((cell) => cell.getBoundingClientRect());
            return {
              right: table.getBoundingClientRect().right,
              label: cells[0].getAttribute("data-label"),
              shown: getComputedStyle(cells[0], "::before").content,
              stacked: second.top >= first.bottom - 1,
            };
          });
          expect(card.right, `a table on ${name} ends past the screen`).toBeLessThanOrEqual(390);
          expect(card.shown, `each value on ${name} sits under its column's name`).toBe(JSON.stringify(card.label));
          expect(card.stacked, `the cells of a row on ${name} sit one under the other`).toBe(true);
        }
        // Against the reviewed picture of the tab at this width (times, ids and dates
        // masked: they differ from run to run).
        await expect(page).toHaveScreenshot(`${viewport.width}px-${name.replace(/ /g, "-")}.png`, {
          fullPage: true,
          animations: "disabled",
          mask: [
            page.locator(".time, [data-testid=key-prefix], .muted.small, .axis-label"),
            page.locator("dl.facts dd").filter({ hasText: " – " }),
          ],
          maxDiffPixelRatio: 0.01,
        });
      }
      // The sign-in page too.
      await page.context().clearCookies();
      await page.goto("/login");
      await page.getByRole("button", { name: "Sign in" }).waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    });
  });
}

// axe-core checks every tab and the dialogs for serious and critical violations (WCAG
// 2.1 A and AA rules).
async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`);
}

test("no tab, form or dialog has a serious accessibility violation", async ({ page }) => {
  await page.goto("/login");
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  expect(await seriousViolations(page), "sign-in page").toEqual([]);
  await signIn(page, ...OWNER);
  const tabs = page.getByRole("navigation", { name: "Developers" });
  for (const name of ["Overview", "Apps", "API keys", "Webhooks", "Logs", "Usage", "Docs", "API status", "Integration logs", "Audit"]) {
    await tabs.getByRole("link", { name, exact: true }).click();
    await expect(page).toHaveTitle(`${name} · Developers · Gatehouse`);
    await page.waitForLoadState("networkidle");
    expect(await seriousViolations(page), name).toEqual([]);
  }
  await tabs.getByRole("link", { name: "API keys", exact: true }).click();
  await page.getByRole("button", { name: "Create API key" }).first().click();
  await expect(page.getByRole("dialog", { name: "Create API key" })).toBeVisible();
  expect(await seriousViolations(page), "create key dialog").toEqual([]);
  await page.keyboard.press("Escape");
  await tabs.getByRole("link", { name: "Webhooks", exact: true }).click();
  await page.getByTestId("create-endpoint").click();
  await expect(page.getByTestId("create-endpoint-dialog")).toBeVisible();
  expect(await seriousViolations(page), "create endpoint dialog").toEqual([]);
});
