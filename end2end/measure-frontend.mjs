// The dashboard as a first-time visitor's browser gets it (`./dev bench`, bench/frontend.sh):
// bytes over the wire for JS and wasm on a first visit to the sign-in page (plain HTML,
// none), then signing in to the Overview (the dashboard's first visit), then what opening
// each Developers tab adds, as Chromium reports them (encoded body sizes, so brotli when
// the server sends brotli); and, with the CPU slowed 4x, median of 5 cold loads, the
// time until the sign-in page is ready and until the Overview is interactive (hydrated).
// Usage: node measure-frontend.mjs BASE_URL EMAIL PASSWORD
import { chromium } from "@playwright/test";

const [base, email, password] = process.argv.slice(2);
const tabs = [
  ["overview", "Overview"], ["apps", "Apps"], ["api-keys", "API keys"], ["webhooks", "Webhooks"],
  ["usage", "Usage"], ["docs", "Docs"], ["api-status", "API status"],
  ["integration-logs", "Integration logs"], ["audit", "Audit"],
];
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

/** Sums the encoded sizes of the JS and wasm responses seen while `action` runs. */
async function codeBytes(page, action) {
  const seen = [];
  const listener = (response) => {
    const url = response.url();
    if (/\.(js|wasm)(\?|$)/.test(url)) seen.push(response);
  };
  page.on("response", listener);
  await action();
  await page.waitForLoadState("networkidle");
  page.off("response", listener);
  let total = 0;
  const files = [];
  for (const response of seen) {
    const sizes = await response.request().sizes();
    // Chromium reports no size (negative) for a file it took from its cache.
    const bytes = Math.max(0, sizes.responseBodySize);
    total += bytes;
    const how = sizes.responseBodySize < 0 ? "from the cache" : response.headers()["content-encoding"] ?? "identity";
    files.push(`${new URL(response.url()).pathname} ${bytes} B ${how}`);
  }
  return { total, files };
}

const kb = (bytes) => (bytes / 1024).toFixed(1).padStart(7) + " KB";
const context = await browser.newContext({ baseURL: base });
const page = await context.newPage();
const signIn = await codeBytes(page, async () => {
  await page.goto("/login");
});
console.log(`first visit, sign-in page (JS + wasm): ${kb(signIn.total)} (target <= 200 KB)`);
for (const file of signIn.files) console.log(`    ${file}`);
await page.getByLabel("Email").fill(email);
await page.getByLabel("Password").fill(password);
const overview = await codeBytes(page, async () => {
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/settings/developers");
  await page.locator("#root[data-hydrated]").waitFor();
});
// Tabs opened after the Overview (which is the dashboard's first visit, above).
let worst = 0;
console.log(`first visit to the dashboard, signing in to the Overview: ${kb(overview.total)} (target <= 250 KB)`);
for (const file of overview.files) console.log(`    ${file}`);
for (const [segment, label] of tabs.slice(1)) {
  const added = await codeBytes(page, async () => {
    await page.getByRole("navigation", { name: "Developers" }).getByRole("link", { name: label, exact: true }).click();
    await page.waitForURL(`**/settings/developers/${segment}`);
  });
  worst = Math.max(worst, added.total);
  console.log(`opening ${label.padEnd(17)} adds ${kb(added.total)}${added.files.length ? "  (" + added.files.join(", ") + ")" : ""}`);
}
console.log(`largest addition by a tab: ${kb(worst)} (target <= 150 KB)`);
await context.close();

// With the CPU slowed 4x, on a cold cache each time: from navigation start to the sign-in
// form's DOMContentLoaded, and, signed in, to the Overview's hydration mark.
const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
const seconds = (ms) => (ms / 1000).toFixed(2);
const ready = [];
const interactive = [];
for (let round = 0; round < 5; round++) {
  const cold = await browser.newContext({ baseURL: base });
  const throttled = await cold.newPage();
  const cdp = await cold.newCDPSession(throttled);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  await throttled.goto("/login");
  ready.push(await throttled.evaluate(() => performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd));
  await throttled.getByLabel("Email").fill(email);
  await throttled.getByLabel("Password").fill(password);
  await throttled.getByRole("button", { name: "Sign in" }).click();
  await throttled.waitForURL("**/settings/developers");
  await throttled.locator("#root[data-hydrated]").waitFor();
  interactive.push(await throttled.evaluate(() => {
    const mark = performance.getEntriesByName("gatehouse-hydrated")[0];
    return mark ? mark.startTime : performance.now();
  }));
  await cold.close();
}
console.log(`sign-in page ready at 4x CPU slowdown: median ${seconds(median([...ready]))} s (runs ${ready.map(seconds).join(", ")})`);
console.log(`Overview interactive after sign-in at 4x CPU slowdown: median ${seconds(median([...interactive]))} s (runs ${interactive.map(seconds).join(", ")}; target < 1.5 s)`);
await browser.close();
