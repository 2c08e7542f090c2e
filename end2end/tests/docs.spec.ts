// The Docs tab: it links every docs page, each opens from the tab with its
// title, links its Markdown form, and the index links the OpenAPI document and llms.txt.
import { expect, test } from "@playwright/test";
import { hydrated, signIn } from "../support/session";

const OWNER = ["owner@demo.gatehouse.test", "demo-owner-password-1"] as const;
const PAGES: [string, string][] = [
  ["Platform overview", "overview"],
  ["Signing in", "signing-in"],
  ["Apps", "apps"],
  ["Authentication and scopes", "authentication"],
  ["Webhooks", "webhooks"],
  ["Rate limits and quotas", "rate-limits"],
  ["Request logs", "request-logs"],
  ["Errors", "errors"],
  ["Run Gatehouse beside your SaaS", "embedding"],
  ["Agent workflows", "agents"],
  ["Connect an agent", "mcp"],
];

test("the Docs tab opens every docs page", async ({ page }) => {
  await signIn(page, ...OWNER);
  await page.getByRole("navigation", { name: "Developers" }).getByRole("link", { name: "Docs", exact: true }).click();
  await expect(page.locator(".doc-links a")).toHaveCount(PAGES.length);
  for (const [title, slug] of PAGES) {
    await page.goto("/settings/developers/docs");
    await hydrated(page);
    await page.locator(".doc-links").getByRole("link", { name: title, exact: true }).click();
    await page.waitForURL(`**/docs/${slug}`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(title);
    const markdown = await page.request.get(`/docs/${slug}.md`);
    expect(markdown.status()).toBe(200);
    expect(await markdown.text()).toContain(`# ${title}`);
  }
});

test("the docs link the API document and llms.txt", async ({ page }) => {
  await page.goto("/docs");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Gatehouse documentation");
  await page.getByRole("link", { name: "Authentication and scopes" }).click();
  await expect(page.locator("table").first()).toContainText("apps:read");
  await page.goto("/docs");
  const openapi = await page.request.get(await page.getByRole("link", { name: "OpenAPI 3.1 document" }).getAttribute("href") ?? "");
  expect((await openapi.json()).openapi).toMatch(/^3\.1\./);
  const llms = await page.request.get(await page.getByRole("link", { name: "/llms.txt" }).getAttribute("href") ?? "");
  expect(await llms.text()).toMatch(/^# Gatehouse\n\n> /);
});

test("docs pages wear the dashboard's style, read at a measure and lead back", async ({ page }) => {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 800 });
    await page.goto("/docs/webhooks");
    // The dashboard's stylesheet applies (its background and typeface).
    const body = await page.evaluate(() => {
      const style = getComputedStyle(document.body);
      return { background: style.backgroundColor, font: style.fontFamily };
    });
    expect(body.background).toBe("rgb(246, 247, 249)");
    expect(body.font).toContain("system-ui");
    // Lines of about 70 characters at most: no paragraph wider than 70 of its own "0"s.
    const wider = await page.locator("main.docs p").evaluateAll((paragraphs) =>
      paragraphs.filter((paragraph) => {
        const probe = document.createElement("span");
        probe.style.cssText = "display: inline-block; width: 70ch";
        paragraph.appendChild(probe);
        const measure = probe.getBoundingClientRect().width;
        probe.remove();
        return paragraph.getBoundingClientRect().width > measure + 1;
      }).length,
    );
    expect(wider).toBe(0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    const back = page.locator("header.docs-header").getByRole("link", { name: "Back to the dashboard" });
    await expect(back).toHaveAttribute("href", "/settings/developers");
  }
});

test("Connect an agent gives copy-paste set-up with this server's address, and llms.txt links it", async ({ page, baseURL }) => {
  for (const width of [1280, 1000, 390]) {
    await page.setViewportSize({ width, height: 800 });
    await page.goto("/docs/mcp");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Connect an agent");
    await expect(page.locator("main.docs")).toContainText(`claude mcp add --transport http gatehouse ${baseURL}/mcp`);
    await expect(page.locator("main.docs li").filter({ hasText: /^list_keys / })).toContainText("(reads, api_keys:read): List API keys");
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `test-results/docs-mcp-${width}.png`, fullPage: true });
  }
  const llms = await (await page.request.get("/llms.txt")).text();
  expect(llms).toContain("[Connect an agent](/docs/mcp.md)");
});
