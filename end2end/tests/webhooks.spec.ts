import { expect, Page, test } from "@playwright/test";
import { hydrated, signIn } from "../support/session";
import { Receiver } from "../support/receiver";

// A Pro tenant of its own (see serve-for-tests.sh).
const OWNER = ["owner@hooks.test", "hooks-owner-password-1"] as const;
const SAME_ORIGIN = { "sec-fetch-site": "same-origin" };

async function openWebhooks(page: Page) {
  await page.goto("/settings/developers/webhooks");
  await hydrated(page);
}

/** Opens an endpoint's detail (freshly loaded, so its delivery log is current). */
async function manage(page: Page) {
  await openWebhooks(page);
  await page.getByTestId("endpoint-row").getByTestId("manage-endpoint").click();
  await expect(page.getByTestId("endpoint-detail")).toBeVisible();
}

/** Waits until the delivery log shows an attempt of `eventId` with `outcome` (an
 * attempt is recorded just after the receiver answers), reopening the detail to reload. */
async function expectLogged(page: Page, eventId: string, outcome: "succeeded" | "failed") {
  await expect(async () => {
    await manage(page);
    await expect(
      page.locator(`[data-testid="attempt-row"][data-event-id="${eventId}"][data-outcome="${outcome}"]`).first(),
    ).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
}

test("an endpoint receives signed test and API events, and a failed one is replayed", async ({
  page,
  context,
  baseURL,
}) => {
  test.setTimeout(90_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  const receiver = await Receiver.start();
  try {
    await signIn(page, ...OWNER);
    await openWebhooks(page);
    // No app yet: the tab says where to make one.
    await expect(page.getByTestId("no-app-selected")).toContainText("Webhook endpoints are bound to an app");
    await page.goto("/settings/developers/apps");
    await hydrated(page);
    await page.getByLabel("Name").fill("Hooks app");
    await page.getByRole("button", { name: "Create app" }).click();
    await expect(page.locator(".app-row.selected", { hasText: "Hooks app" })).toBeVisible();
    const appId = await page.locator(".app-row.selected").getAttribute("data-app-id");

    await openWebhooks(page);
    await expect(page.getByTestId("endpoints-empty")).toContainText("No webhook endpoints yet");
    await page.getByTestId("create-endpoint").click();
    const dialog = page.getByTestId("create-endpoint-dialog");
    // A loopback address outside the operator's allowed networks is refused beside the field.
    await dialog.getByLabel("Endpoint URL").fill("http://127.0.0.2:9/hook");
    await dialog.getByRole("button", { name: "Add endpoint" }).click();
    await expect(dialog.locator('[data-field="url"]')).toContainText("loopback");
    await dialog.getByLabel("Endpoint URL").fill(receiver.url);
    await dialog.getByLabel("Description").fill("Orders service");
    await dialog.getByRole("button", { name: "Add endpoint" }).click();

    // The signing secret is shown once.
    const secretDialog = page.getByTestId("secret-dialog");
    await expect(secretDialog).toContainText("Save your signing secret");
    // Copied with the button, as a user would, and read back from the clipboard.
    await secretDialog.getByRole("button", { name: "Copy" }).click();
    await expect(secretDialog.getByTestId("copy-key")).toHaveText("Copied");
    const secret = await page.evaluate(() => navigator.clipboard.readText());
    expect(secret).toMatch(/^whsec_/);
    expect(secret).toBe(await secretDialog.getByTestId("one-time-plaintext").textContent());
    await expect(secretDialog).toContainText("This signing secret will only be shown once");
    receiver.secret = secret;
    await secretDialog.getByRole("button", { name: "Done" }).click();
    await expect(secretDialog).toHaveCount(0);
    const row = page.getByTestId("endpoint-row");
    await expect(row).toContainText(receiver.url);
    await expect(row).toContainText("All events");
    await expect(page.locator("body")).not.toContainText(secret);
    await page.goto("/settings/developers/overview");
    await hydrated(page);
    await expect(page.getByTestId("endpoint-count")).toHaveText("1");

    // Send test event: delivered, verified by the official library, shown in place.
    await manage(page);
    await expect(page.getByTestId("last-success")).toHaveText("Never");
    await page.getByTestId("send-test-event").click();
    await expect(page.getByTestId("test-result")).toContainText("Delivered webhook.test: HTTP 200");
    // The endpoint's facts follow at once: its last success is now.
    await expect(page.getByTestId("last-success")).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(receiver.deliveries.filter((d) => d.verified && d.type === "webhook.test")).toHaveLength(1);
    await expect(page.getByTestId("attempt-row").first()).toContainText("webhook.test");
    // Or an example of one of the catalog's types, which the receiver handles as the real one.
    await page.getByLabel("Test event").selectOption("payment_intent.succeeded");
    await page.getByTestId("send-test-event").click();
    await expect(page.getByTestId("test-result")).toContainText("Delivered payment_intent.succeeded: HTTP 200");
    expect(receiver.deliveries.filter((d) => d.verified && d.type === "payment_intent.succeeded")).toHaveLength(1);
    await expect(page.getByTestId("attempt-row").first()).toContainText("payment_intent.succeeded");

    // An event posted through the API reaches the receiver and the delivery log.
    const created = await page.request.post("/api/create_api_key", {
      headers: SAME_ORIGIN,
      data: { input: { app_id: appId, name: "Events", mode: "live", key_type: "secret", scopes: [] } },
    });
    expect(created.status()).toBe(200);
    const key = (await created.json()).plaintext as string;
    const postEvent = async (type: string) => {
      const response = await page.request.post("/v1/events", {
        headers: { authorization: `Bearer ${key}` },
        data: { type, data: { id: "pi_1", amount: 1200 } },
      });
      expect(response.status()).toBe(201);
      return (await response.json()).id as string;
    };
    const succeeded = await postEvent("payment_intent.succeeded");
    await expect.poll(() => receiver.verifiedIds().has(succeeded)).toBe(true);
    await expectLogged(page, succeeded, "succeeded");

    // The receiver fails: the log shows it; after it recovers, a replay delivers it.
    receiver.answer = () => 500;
    const failed = await postEvent("payment_intent.payment_failed");
    await expect.poll(() => receiver.deliveries.some((d) => d.id === failed)).toBe(true);
    await expectLogged(page, failed, "failed");
    const failedRow = page.locator(`[data-testid="attempt-row"][data-event-id="${failed}"][data-outcome="failed"]`).first();
    await expect(failedRow).toContainText("HTTP 500");
    receiver.answer = () => 200;
    await failedRow.getByTestId("replay-event").click();
    await expect(page.getByTestId("replay-result")).toContainText("1 event queued");
    await expect
      .poll(() => receiver.deliveries.filter((d) => d.id === failed && d.verified).length)
      .toBeGreaterThanOrEqual(2);
    await expectLogged(page, failed, "succeeded");

    // View opens the message: the body as sent (copied byte for byte), each attempt
    // newest first with its answer and the headers it carried, the signature cut short.
    const sentFailed = receiver.deliveries.filter((d) => d.id === failed);
    await failedRow.getByTestId("view-message").click();
    const message = page.getByTestId("message-view");
    await expect(message.getByRole("heading", { name: "Message" })).toBeFocused();
    await expect(message.getByTestId("message-event-id")).toHaveText(failed);
    const body = message.getByTestId("message-body");
    await expect(body).toContainText('"type": "payment_intent.payment_failed"');
    await expect(body).toContainText('"amount": 1200');
    await message.getByTestId("copy-body").click();
    await expect(message.getByTestId("copy-body")).toHaveText("Copied");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(sentFailed[0].body);
    const attempts = message.getByTestId("message-attempt");
    expect(await attempts.count()).toBeGreaterThanOrEqual(2);
    await expect(attempts.first()).toContainText("Succeeded · HTTP 200");
    await expect(attempts.last()).toContainText("Failed · HTTP 500");
    await expect(attempts.last()).toContainText(`webhook-id: ${failed}`);
    const shownSignature = (await attempts.last().locator("li", { hasText: "webhook-signature" }).textContent())!
      .replace("webhook-signature: ", "");
    expect(shownSignature).toMatch(/^v1,.{8}…$/);
    expect(sentFailed[0].signature.startsWith(shownSignature.slice(0, -1))).toBe(true);
    // Escape closes the message, not the endpoint's dialog.
    await page.keyboard.press("Escape");
    await expect(message).toHaveCount(0);
    await expect(page.getByTestId("endpoint-detail")).toBeVisible();

    // Disable, then delete after confirming.
    await page.getByTestId("toggle-endpoint").click();
    await expect(page.getByRole("status")).toContainText("is now disabled");
    await manage(page);
    await page.getByTestId("delete-endpoint").click();
    await page.getByTestId("confirm-delete-endpoint").click();
    await expect(page.getByTestId("endpoints-empty")).toBeVisible();
    // The Overview counts endpoints.
    await page.goto("/settings/developers/overview");
    await hydrated(page);
    await expect(page.getByTestId("endpoint-count")).toHaveText("0");
  } finally {
    await receiver.stop();
  }
});
