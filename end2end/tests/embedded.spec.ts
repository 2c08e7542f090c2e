// Gatehouse inside the SaaS's own settings page: a page of another site
// (http://localhost:<port>, while Gatehouse is http://127.0.0.1:<port>) asks its own
// small backend for a one-time sign-in link and frames it, with Chromium blocking
// third-party cookies. The person lands on the API keys tab and makes a key; the frame
// follows the content's height; a site not in GATEHOUSE_EMBED_ORIGINS cannot frame the
// workspace; and the link opened again shows the expired page.
import { expect, FrameLocator, Page, test } from "@playwright/test";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

const gatehousePort = Number(process.env.E2E_PORT ?? 3100);
const GATEHOUSE = `http://127.0.0.1:${gatehousePort}`;
const SAAS_PORT = gatehousePort + 1;
const STRANGER_PORT = gatehousePort + 2;

// Chromium as people have it when third-party cookies are blocked.
test.use({
  launchOptions: {
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--test-third-party-cookie-phaseout"],
  },
  viewport: { width: 1000, height: 800 },
});

/** The SaaS's backend: one call to the operator API with its token. */
async function operator(method: string, route: string, body: unknown, headers: Record<string, string> = {}) {
  const token = fs.readFileSync(path.join(__dirname, "..", ".operator-token"), "utf8").trim();
  const response = await fetch(`${GATEHOUSE}${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** The SaaS's settings page: a fresh link for its signed-in person, framed. */
function settingsPage(link: string) {
  return `<!doctype html><html><head><title>Acme settings</title></head>
<body style="margin:0;font-family:sans-serif">
<header style="padding:12px 16px;border-bottom:1px solid #ccc"><strong>Acme</strong> · Settings</header>
<iframe id="workspace" title="Developers" src="${link}" data-link="${link}"
  style="display:block;width:100%;height:150px;border:0"></iframe>
<script>
  window.heights = [];
  addEventListener("message", (event) => {
    if (event.origin !== "${GATEHOUSE}" || !event.data || event.data.type !== "gatehouse:resize") return;
    window.heights.push(event.data.height);
    document.getElementById("workspace").style.height = event.data.height + "px";
  });
</script></body></html>`;
}

function saas(port: number): Promise<http.Server> {
  const server = http.createServer(async (request, response) => {
    try {
      if (request.url !== "/settings") {
        response.writeHead(404).end();
        return;
      }
      const tenant = await operator(
        "POST",
        "/operator/v1/tenants",
        { name: "Embed Company", external_id: "acct_embed" },
        { "Idempotency-Key": "e2e-embed-company" },
      );
      const link = await operator("POST", `/operator/v1/tenants/${tenant.id}/sign-in-links`, {
        email: "dev@embed.test",
        name: "Dana Developer",
        role: "owner",
        path: "api-keys",
      });
      response.writeHead(200, { "Content-Type": "text/html" }).end(settingsPage(link.url));
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

let servers: http.Server[] = [];
test.beforeAll(async () => {
  servers = [await saas(SAAS_PORT), await saas(STRANGER_PORT)];
});
test.afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
});

async function workspace(page: Page): Promise<FrameLocator> {
  await page.goto(`http://localhost:${SAAS_PORT}/settings`);
  const frame = page.frameLocator("#workspace");
  await frame.locator("#root[data-hydrated]").waitFor();
  return frame;
}

test("the workspace works inside the SaaS's page, with third-party cookies blocked", async ({ page }) => {
  test.setTimeout(90_000);
  const frame = await workspace(page);
  // The browser treats the frame as third-party and blocks its unpartitioned cookies.
  const inner = page.frames().find((candidate) => candidate.url().startsWith(GATEHOUSE))!;
  expect(await inner.evaluate(() => document.hasStorageAccess())).toBe(false);
  expect(inner.url()).toBe(`${GATEHOUSE}/settings/developers/api-keys`);

  // No chrome of Gatehouse's own: no sign-out, no tenant in a sidebar.
  await expect(frame.getByRole("button", { name: "Sign out" })).toHaveCount(0);
  await expect(frame.locator("nav.sidebar")).toHaveCount(0);

  // An app first (a new tenant has none), then a key, all inside the frame.
  const noApp = frame.getByTestId("no-app-selected");
  await expect(noApp).toBeVisible();
  await noApp.getByRole("link", { name: "Apps tab" }).click();
  await frame.getByLabel("Name").fill("Embedded app");
  await frame.getByRole("button", { name: "Create app" }).click();
  await expect(frame.locator(".app-row", { hasText: "Embedded app" })).toBeVisible();
  await frame.getByRole("link", { name: "API keys", exact: true }).click();
  await frame.getByRole("button", { name: "Create API key" }).click();
  const create = frame.getByRole("dialog", { name: "Create API key" });
  await create.getByLabel("Name").fill("Embedded key");
  await create.getByLabel("Full access").check();
  await create.getByRole("button", { name: "Create key" }).click();
  const secret = frame.getByRole("dialog", { name: "Save your API key" });
  await expect(secret.getByTestId("one-time-plaintext")).toHaveText(/^sk_live_/);
  await secret.getByRole("button", { name: "Done" }).click();
  await expect(frame.getByTestId("key-row")).toHaveCount(1);

  // The frame's height follows its content: no scrollbar inside the frame.
  await expect
    .poll(async () => {
      const reported = await page.evaluate(() => (window as any).heights.at(-1));
      const content = await inner.evaluate(
        () => document.getElementById("embedded-workspace")!.offsetHeight,
      );
      return reported === content;
    })
    .toBe(true);
  const iframeHeight = await page.locator("#workspace").evaluate((element) => element.clientHeight);
  const innerSize = await inner.evaluate(() => ({
    scroll: document.documentElement.scrollHeight,
    client: document.documentElement.clientHeight,
  }));
  expect(innerSize.scroll).toBeLessThanOrEqual(innerSize.client + 1);
  expect(iframeHeight).toBeGreaterThan(150);

  // The link again: spent, said plainly, with the way back to the SaaS.
  const link = await page.locator("#workspace").getAttribute("data-link");
  const again = await page.context().newPage();
  await again.goto(link!);
  await expect(again.getByRole("heading", { name: "This sign-in link has expired" })).toBeVisible();
  await expect(again.getByRole("link", { name: "Back to settings" })).toHaveAttribute(
    "href",
    `http://localhost:${SAAS_PORT}/settings`,
  );
});

test("a site not in GATEHOUSE_EMBED_ORIGINS cannot frame the workspace", async ({ page }) => {
  const refused: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("frame-ancestors")) refused.push(message.text());
  });
  await page.goto(`http://localhost:${STRANGER_PORT}/settings`);
  await expect.poll(() => refused.length).toBeGreaterThan(0);
  const inner = page.frames().find((candidate) => candidate !== page.mainFrame())!;
  await expect(inner.locator("#root")).toHaveCount(0);
});
