import { expect, Page, test } from "@playwright/test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { serverFn } from "../support/server-fn";
import { hydrated, signIn } from "../support/session";

// A Pro tenant of its own (see serve-for-tests.sh): its request log holds only the
// agent's calls.
const OWNER = ["owner@agents.test", "agents-owner-password-1"] as const;

/** The official SDK's client, connected to /mcp with `key` as a bearer credential. */
async function connect(baseURL: string, key: string) {
  const client = new Client({ name: "gatehouse-e2e-agent", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL("/mcp", baseURL), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  return client;
}

async function openKeyDetail(page: Page, keyId: string) {
  const tabs = page.getByRole("navigation", { name: "Developers" });
  await tabs.getByRole("link", { name: "API keys", exact: true }).click();
  await page.waitForURL("**/settings/developers/api-keys");
  await hydrated(page);
  await page
    .locator(`[data-testid="key-row"][data-key-id="${keyId}"]`)
    .getByRole("button", { name: "Manage" })
    .click();
  return page.getByTestId("key-detail");
}

test("an agent connects with a restricted key, sees and runs only its scopes' tools, and is cut off when the key is revoked", async ({ page, baseURL }) => {
  await signIn(page, ...OWNER);
  const app = await serverFn(page.request, "create_app", { input: { name: "Agent app" } });
  const created = await serverFn(page.request, "create_api_key", {
    input: { app_id: app.id, name: "Reporting agent", mode: "test", key_type: "restricted", scopes: ["api_keys:read"] },
  });
  const keyId: string = created.key.id;
  const agent = await connect(baseURL!, created.plaintext);
  expect(agent.getServerVersion()?.name).toBe("gatehouse");

  // Exactly the tools of api_keys:read, and whoami.
  const { tools } = await agent.listTools();
  expect(tools.map((tool) => tool.name).sort()).toEqual(["get_key", "list_keys", "whoami"]);
  const listKeys = tools.find((tool) => tool.name === "list_keys")!;
  expect(listKeys.annotations?.readOnlyHint).toBe(true);
  expect(Object.keys(listKeys.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(["limit", "cursor"]));

  const me = await agent.callTool({ name: "whoami", arguments: {} });
  expect(me.isError).toBe(false);
  expect(me.structuredContent).toMatchObject({ key_id: keyId, mode: "test", scopes: ["api_keys:read"] });
  const keys = await agent.callTool({ name: "list_keys", arguments: { limit: 10 } });
  expect((keys.structuredContent as { data: { id: string }[] }).data.map((key) => key.id)).toContain(keyId);

  // A tool outside its scopes is an error naming the scope, and makes nothing.
  const refused = await agent.callTool({
    name: "create_key",
    arguments: { name: "Escalated", mode: "test", key_type: "secret", scopes: [] },
  });
  expect(refused.isError).toBe(true);
  expect(JSON.stringify(refused.content)).toContain("api_keys:write");

  // The request log shows the agent's calls under the key, by tool.
  const tabs = page.getByRole("navigation", { name: "Developers" });
  await tabs.getByRole("link", { name: "Logs", exact: true }).click();
  await page.waitForURL("**/settings/developers/logs");
  await hydrated(page);
  await page.getByTestId("logs-mode-test").click();
  const logs = page.getByTestId("request-logs");
  await expect(async () => {
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(logs).toContainText("mcp:create_key", { timeout: 1_000 });
  }).toPass({ timeout: 10_000 });
  await expect(logs).toContainText("mcp:whoami");
  await expect(logs).toContainText("mcp:list_keys");
  await expect(logs).toContainText("mcp:tools/list");
  await expect(logs).toContainText("insufficient_scope");

  // Revoked from the dashboard: the agent's next call is refused.
  const detail = await openKeyDetail(page, keyId);
  await detail.getByRole("button", { name: "Revoke", exact: true }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Revoke key" }).click();
  await expect(detail.getByTestId("key-detail-status")).toHaveText("revoked");
  await expect(agent.callTool({ name: "whoami", arguments: {} })).rejects.toThrow(/401|revoked|Unauthorized/i);
  await agent.close();
});
