// What a browser is sent and may keep: the built JS, wasm and CSS under content-hashed
// names, precompressed (brotli, or gzip for a browser without it) and cached as
// immutable; pages never stored; a favicon; and a title per page and tab.
import { expect, test } from "@playwright/test";
import { signIn } from "../support/session";

test("built files are hashed, compressed and immutable; pages are never stored", async ({ page, request }) => {
  const built: { url: string; encoding?: string; cache?: string }[] = [];
  page.on("response", (response) => {
    if (new URL(response.url()).pathname.startsWith("/pkg/")) {
      built.push({
        url: new URL(response.url()).pathname,
        encoding: response.headers()["content-encoding"],
        cache: response.headers()["cache-control"],
      });
    }
  });
  const login = await page.goto("/login");
  expect(login!.headers()["cache-control"]).toBe("no-store");
  await expect(page).toHaveTitle("Sign in · Gatehouse");
  // The sign-in page loads no code; the dashboard it leads to does.
  await signIn(page, "owner@demo.gatehouse.test", "demo-owner-password-1");
  const html = await page.reload();
  expect(html!.headers()["cache-control"]).toBe("no-store");
  await page.locator("#root[data-hydrated]").waitFor();

  const kinds = ["js", "wasm", "css"];
  for (const kind of kinds) {
    const file = built.find((entry) => entry.url.endsWith(`.${kind}`));
    expect(file, `a .${kind} file was loaded`).toBeTruthy();
    // gatehouse.<hash>.<kind>: the name changes whenever the content does.
    expect(file!.url).toMatch(new RegExp(`^/pkg/gatehouse\\.[A-Za-z0-9_-]{8,}\\.${kind}$`));
    expect(file!.encoding).toBe("br");
    expect(file!.cache).toBe("public, max-age=31536000, immutable");
  }

  // A client that takes only gzip gets gzip; one that takes neither gets the plain file.
  const wasm = built.find((entry) => entry.url.endsWith(".wasm"))!.url;
  const gzip = await request.get(wasm, { headers: { "accept-encoding": "gzip" } });
  expect(gzip.headers()["content-encoding"]).toBe("gzip");
  const plain = await request.get(wasm, { headers: { "accept-encoding": "identity" } });
  expect(plain.headers()["content-encoding"]).toBeUndefined();
  expect((await plain.body()).subarray(0, 4)).toEqual(Buffer.from([0x00, 0x61, 0x73, 0x6d]));

  // A name that is not this build's is not cached.
  const missing = await request.get("/pkg/gatehouse.0000000000.wasm");
  expect(missing.status()).toBe(404);
  expect(missing.headers()["cache-control"]).toBe("no-cache");

  for (const icon of ["/favicon.ico", "/favicon.svg"]) {
    const answer = await request.get(icon);
    expect(answer.status(), icon).toBe(200);
    expect(answer.headers()["content-type"]).toMatch(/^image\//);
  }
});

test("every tab has its own title", async ({ page }) => {
  await signIn(page, "owner@demo.gatehouse.test", "demo-owner-password-1");
  await expect(page).toHaveTitle("Overview · Developers · Gatehouse");
  const tabs = page.getByRole("navigation", { name: "Developers" });
  for (const name of ["Apps", "API keys", "Webhooks", "Logs", "Usage", "Docs", "API status", "Integration logs", "Audit"]) {
    await tabs.getByRole("link", { name, exact: true }).click();
    await expect(page).toHaveTitle(`${name} · Developers · Gatehouse`);
  }
});
