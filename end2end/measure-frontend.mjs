// The dashboard as a first-time visitor's browser gets it (`./dev bench`, bench/frontend.sh):
// bytes over the wire for JS and wasm on a first visit to the sign-in page, then what
// opening each Developers tab adds, as Chromium reports them (encoded body sizes, so
// brotli when the server sends brotli); and the time until the sign-in page is
// interactive (hydrated) with the CPU slowed 4x, median of 5 cold loads.
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
  await page.locator("#root[data-hydrated]").waitFor();
});
console.log(`first visit, sign-in page (JS + wasm): ${kb(signIn.total)} (target <= 250 KB)`);
for (const file of signIn.files) console.log(`    ${file}`);
await page.getByLabel("Email").fill(email);
await page.getByLabel("Password").fill(password);
const overview = await codeBytes(page, async () => {
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/settings/developers");
  await page.locator("#root[data-hydrated]").waitFor();
});
let worst = overview.total;
console.log(`signing in to the Overview adds ${kb(overview.total)}${overview.files.length ? "  (" + overview.files.join(", ") + ")" : ""}`);
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

// Time to interactive with the CPU slowed 4x: from navigation start to the app's
// hydration mark, on a cold cache each time.
const times = [];
for (let round = 0; round < 5; round++) {
  const cold = await browser.newContext({ baseURL: base });
  const throttled = await cold.newPage();
  const cdp = await cold.newCDPSession(throttled);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  await throttled.goto("/login");
  await throttled.locator("#root[data-hydrated]").waitFor();
  const at = await throttled.evaluate(() => {
    const mark = performance.getEntriesByName("gatehouse-hydrated")[0];
    return mark ? mark.startTime : performance.now();
  });
  times.push(at);
  await cold.close();
}
times.sort((a, b) => a - b);
console.log(`sign-in page interactive at 4x CPU slowdown: median ${(times[2] / 1000).toFixed(2)} s (runs ${times.map((t) => (t / 1000).toFixed(2)).join(", ")}; target < 1.5 s)`);
await browser.close();
