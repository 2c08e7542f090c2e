// The Overview's setup guide: each step ticks itself from what the workspace holds and
// links to where it is done; once all are done the person can dismiss it for good.
import { expect, Page, test } from "@playwright/test";
import { Receiver } from "../support/receiver";
import { serverFn } from "../support/server-fn";
import { hydrated, signIn } from "../support/session";

// A tenant of its own (see serve-for-tests.sh).
const OWNER = ["owner@setup.test", "setup-owner-password-1"] as const;

async function guideAfterReload(page: Page) {
  await page.goto("/settings/developers");
  await hydrated(page);
  return page.getByTestId("setup-guide");
}

/** The steps marked done, in order. */
async function doneSteps(page: Page) {
  return page.locator('[data-testid="setup-step"][data-done="true"]').evaluateAll((steps) => steps.map((step) => step.getAttribute("data-step")));
}

test("the setup guide follows the workspace and is dismissed once done", async ({ page }) => {
  test.setTimeout(60_000);
  const receiver = await Receiver.start();
  try {
    await signIn(page, ...OWNER);
    let guide = page.getByTestId("setup-guide");
    await expect(guide.getByTestId("setup-progress")).toHaveText("0 of 5 done");
    await expect(guide.getByRole("button", { name: "Dismiss the guide" })).toHaveCount(0);
    // The next step links to where it is done.
    const first = guide.getByRole("link", { name: "Create an app" });
    await expect(first).toHaveAttribute("aria-current", "step");
    await first.click();
    await expect(page).toHaveTitle("Apps · Developers · Gatehouse");

    const app = await serverFn(page.request, "create_app", { input: { name: "Setup app" } });
    const key = await serverFn(page.request, "create_api_key", {
      input: { app_id: app.id, name: "Setup key", mode: "test", key_type: "secret" },
    });
    guide = await guideAfterReload(page);
    expect(await doneSteps(page)).toEqual(["create_app", "create_key"]);
    await expect(guide.getByRole("link", { name: "Make a first call with the key" })).toHaveAttribute("aria-current", "step");

    // A call with the key: its use is written within about a second.
    const whoami = await page.request.get("/v1/whoami", { headers: { authorization: `Bearer ${key.plaintext}` } });
    expect(whoami.status()).toBe(200);
    await expect(async () => {
      await guideAfterReload(page);
      expect(await doneSteps(page)).toContain("first_call");
    }).toPass({ timeout: 10_000, intervals: [1_000] });

    const created = await serverFn(page.request, "create_webhook_endpoint", {
      input: { app_id: app.id, url: receiver.url, mode: "test" },
    });
    receiver.secret = created.secret;
    guide = await guideAfterReload(page);
    await expect(guide.getByTestId("setup-progress")).toHaveText("4 of 5 done");
    await serverFn(page.request, "send_test_webhook", { endpoint_id: created.endpoint.id });
    guide = await guideAfterReload(page);
    await expect(guide.getByTestId("setup-progress")).toHaveText("5 of 5 done");
    expect(await doneSteps(page)).toEqual(["create_app", "create_key", "first_call", "add_endpoint", "first_delivery"]);

    await guide.getByRole("button", { name: "Dismiss the guide" }).click();
    await expect(guide).toBeHidden();
    await guideAfterReload(page);
    await expect(page.getByTestId("setup-guide")).toHaveCount(0);
  } finally {
    await receiver.stop();
  }
});
