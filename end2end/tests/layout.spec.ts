// The dashboard at the three widths it is used at: 1280 px (a laptop), 1000 px (framed
// inside a SaaS's settings page) and 390 px (a phone). On every tab and in the dialogs
// people open most, with records as long as real ones: nothing is clipped, the page
// never scrolls sideways, and every button reads as words on one line.
import { expect, Page, test } from "@playwright/test";
import { serverFn } from "../support/server-fn";
import { Receiver } from "../support/receiver";
import { signIn } from "../support/session";

// A tenant of its own (see serve-for-tests.sh).
const OWNER = ["owner@layout.test", "layout-owner-password-1"] as const;
const TABS = ["Overview", "Apps", "API keys", "Webhooks", "Logs", "Usage", "Docs", "API status", "Integration logs", "Audit"];
const WIDTHS = [
  { width: 1280, height: 800 },
  { width: 1000, height: 800 },
  { width: 390, height: 844 },
];

/** What is wrong with the layout as it is on screen now, one line per finding. */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const name = (element: Element) => {
      const id = element.getAttribute("data-testid");
      const text = (element.textContent ?? "").trim().replace(/\s+/g, " ").slice(0, 40);
      return `${element.tagName.toLowerCase()}${id ? `[data-testid=${id}]` : ""}${element.className ? `.${String(element.className).replace(/ /g, ".")}` : ""} "${text}"`;
    };
    const shown = (element: Element) => {
      // What is there for screen readers only (a phone's table headers too).
      if (element.closest(".visually-hidden, [hidden], .rows-on-phone > thead")) return false;
      const box = element.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && getComputedStyle(element).visibility !== "hidden";
    };
    const overflow = document.documentElement.scrollWidth - window.innerWidth;
    if (overflow > 0) problems.push(`the page scrolls sideways by ${overflow} px`);
    for (const element of document.querySelectorAll("body *")) {
      if (!shown(element)) continue;
      const style = getComputedStyle(element);
      // A box that clips or scrolls its content sideways hides part of it. Code blocks
      // and what says it scrolls on purpose (a row of tabs) may.
      const clips = ["auto", "hidden", "scroll", "clip"].includes(style.overflowX);
      const mayScroll = element.matches("pre, textarea, input, select, [data-scrolls=sideways]");
      if (clips && !mayScroll && element.scrollWidth > element.clientWidth + 1) {
        problems.push(`${name(element)} hides ${element.scrollWidth - element.clientWidth} px of its content`);
      }
      // A card, a dialog or a button whose content runs out of it.
      if (!clips && element.matches(".card, .modal, button, .app-row") && element.scrollWidth > element.clientWidth + 1) {
        problems.push(`${name(element)} overflows by ${element.scrollWidth - element.clientWidth} px`);
      }
      const box = element.getBoundingClientRect();
      if (box.right > window.innerWidth + 1 && !element.closest("[data-scrolls=sideways], pre")) {
        problems.push(`${name(element)} ends ${Math.round(box.right - window.innerWidth)} px past the window`);
      }
    }
    for (const button of document.querySelectorAll("button, a.button")) {
      if (!shown(button)) continue;
      const label = ((button as HTMLElement).innerText || button.getAttribute("aria-label") || "").trim();
      if (!/^[\p{L}\p{N}“"][\p{L}\p{N} .,'’“”"…:+()\/&%?!–-]{0,40}$/u.test(label)) {
        problems.push(`a button reads ${JSON.stringify(label)}`);
      }
      // One line: the text's height is one line's.
      const range = document.createRange();
      range.selectNodeContents(button);
      const style = getComputedStyle(button);
      const lineHeight = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.2;
      if (label && range.getBoundingClientRect().height > lineHeight * 1.6) {
        problems.push(`the button "${label}" wraps onto ${Math.round(range.getBoundingClientRect().height / lineHeight)} lines`);
      }
    }
    return [...new Set(problems)];
  });
}

async function settle(page: Page) {
  await page.waitForLoadState("networkidle");
  await expect(page.locator(".loading, [aria-busy=true]")).toHaveCount(0);
}

test("a workspace with records as long as real ones", async ({ page }) => {
  test.setTimeout(60_000);
  const receiver = await Receiver.start();
  try {
    await signIn(page, ...OWNER);
    const app = await serverFn(page.request, "create_app", {
      input: {
        name: "Northwind Traders storefront integration",
        description: "Orders, refunds and payouts for the Northwind storefront and its warehouse partners",
        allowed_origins: ["https://dashboard.northwind-traders.example", "https://admin.northwind-traders.example:8443"],
      },
    });
    await serverFn(page.request, "select_app", { app_id: app.id });
    const restricted = await serverFn(page.request, "create_api_key", {
      input: {
        app_id: app.id,
        name: "Warehouse synchronisation service (production)",
        description: "Reads orders and writes refunds for the warehouse partners' nightly run",
        mode: "live",
        key_type: "restricted",
        scopes: ["payment_intents:read", "payment_intents:write", "reconciliation_cases:read", "refunds:write", "customers:read", "invoices:read", "exports:read", "payouts:read"],
        expiry_days: 5,
      },
    });
    await serverFn(page.request, "create_api_key", {
      input: { app_id: app.id, name: "Staging", mode: "test", key_type: "secret", expiry_days: 90 },
    });
    // Calls with the key, answered and refused, for Logs, Usage and the key's counts.
    for (let call = 0; call < 3; call++) {
      expect((await page.request.get("/v1/whoami", { headers: { authorization: `Bearer ${restricted.plaintext}` } })).status()).toBe(200);
    }
    expect((await page.request.get("/v1/api-keys", { headers: { authorization: `Bearer ${restricted.plaintext}` } })).status()).toBe(403);
    const created = await serverFn(page.request, "create_webhook_endpoint", {
      input: {
        app_id: app.id,
        url: `${receiver.url}/northwind/webhooks/orders-and-refunds`,
        description: "Order and refund notifications for the warehouse partners",
        mode: "test",
        event_families: ["api_key.*", "refund.*", "payout.*"],
      },
    });
    receiver.secret = created.secret;
    // One test delivery answered, one failed (so the log shows a next retry).
    await serverFn(page.request, "send_test_webhook", { endpoint_id: created.endpoint.id });
    receiver.answer = () => 500;
    await serverFn(page.request, "send_test_webhook", { endpoint_id: created.endpoint.id });
  } finally {
    await receiver.stop();
  }
});

for (const viewport of WIDTHS) {
  test.describe(`at ${viewport.width} px`, () => {
    test.use({ viewport });

    test("no tab or dialog is clipped, scrolls sideways or has a button that does not read", async ({ page }) => {
      test.setTimeout(90_000);
      await signIn(page, ...OWNER);
      const tabs = page.getByRole("navigation", { name: "Developers" });
      const found: string[] = [];
      for (const tab of TABS) {
        await tabs.getByRole("link", { name: tab, exact: true }).click();
        await expect(page).toHaveTitle(`${tab} · Developers · Gatehouse`);
        await settle(page);
        found.push(...(await layoutProblems(page)).map((problem) => `${tab}: ${problem}`));
      }
      // The dialogs: a key's detail, the create-key form, an endpoint's detail with its
      // delivery log, and the add-endpoint form.
      await tabs.getByRole("link", { name: "API keys", exact: true }).click();
      await settle(page);
      await page.getByTestId("manage-key").first().click();
      await expect(page.getByRole("dialog")).toBeVisible();
      await settle(page);
      found.push(...(await layoutProblems(page)).map((problem) => `key detail: ${problem}`));
      await page.keyboard.press("Escape");
      await expect(page.getByRole("dialog")).toHaveCount(0);
      found.push(...(await layoutProblems(page)).map((problem) => `API keys after the detail closed: ${problem}`));
      await page.getByRole("button", { name: "Create API key" }).first().click();
      await expect(page.getByRole("dialog", { name: "Create API key" })).toBeVisible();
      found.push(...(await layoutProblems(page)).map((problem) => `create key: ${problem}`));
      await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
      await tabs.getByRole("link", { name: "Webhooks", exact: true }).click();
      await settle(page);
      await page.getByTestId("manage-endpoint").first().click();
      await expect(page.getByTestId("delivery-log")).toBeVisible();
      found.push(...(await layoutProblems(page)).map((problem) => `endpoint detail: ${problem}`));
      await page.keyboard.press("Escape");
      await page.getByTestId("create-endpoint").click();
      await expect(page.getByTestId("create-endpoint-dialog")).toBeVisible();
      found.push(...(await layoutProblems(page)).map((problem) => `add endpoint: ${problem}`));
      expect(found).toEqual([]);
    });
  });
}
