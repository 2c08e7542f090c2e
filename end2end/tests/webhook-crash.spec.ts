import { expect, request, test } from "@playwright/test";
import { ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Receiver } from "../support/receiver";

// Durability: the release server is killed with SIGKILL twice while 500
// events are posted; every acknowledged event still reaches the receiver, verified by
// the official Standard Webhooks library. The receiver fails a third of first attempts.

const BINARY = join(__dirname, "..", "..", "target", "release", "gatehouse");
const PASSWORD = "crash-test-owner-password";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

test("every acknowledged event is delivered across two kill -9 restarts", async () => {
  test.setTimeout(240_000);
  const data = mkdtempSync(join(tmpdir(), "gatehouse-crash-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = openSync(join(data, "server.log"), "a");
  let server: ChildProcess | null = null;
  const startServer = async () => {
    server = spawn(BINARY, ["serve"], {
      env: {
        ...process.env,
        DATABASE_URL: `sqlite://${data}/gatehouse.db`,
        GATEHOUSE_ADDR: `127.0.0.1:${port}`,
        GATEHOUSE_BOOTSTRAP_PASSWORD: PASSWORD,
        GATEHOUSE_WEBHOOK_ALLOW_NETWORKS: "127.0.0.1",
        GATEHOUSE_WEBHOOK_LEASE_SECONDS: "20",
        GATEHOUSE_LOG: "warn",
      },
      stdio: ["ignore", log, log],
    });
    await expect.poll(async () => (await fetch(`${base}/health`).catch(() => null))?.status, { timeout: 20_000 }).toBe(200);
  };
  const kill = () => {
    server!.kill("SIGKILL");
    server = null;
  };

  const receiver = await Receiver.start();
  // A third of events fail their first attempt (and are retried 5 s later).
  receiver.answer = (id, seenBefore) => (seenBefore === 0 && id.charCodeAt(id.length - 1) % 3 === 0 ? 500 : 200);
  try {
    await startServer();
    const dashboard = await request.newContext({ baseURL: base, extraHTTPHeaders: { "sec-fetch-site": "same-origin" } });
    const signIn = await dashboard.post("/api/sign_in", {
      form: { email: "owner@demo.gatehouse.test", password: PASSWORD },
    });
    expect(signIn.status()).toBe(200);
    const app = await dashboard.post("/api/create_app", {
      data: { input: { name: "Crash test", description: "", allowed_origins: [] } },
    });
    expect(app.status()).toBe(200);
    const appId = (await app.json()).id;
    const created = await dashboard.post("/api/create_api_key", {
      data: { input: { app_id: appId, name: "Events", mode: "live", key_type: "secret", scopes: [] } },
    });
    const key = (await created.json()).plaintext as string;
    const api = await request.newContext({ baseURL: base, extraHTTPHeaders: { authorization: `Bearer ${key}` } });
    const endpoint = await api.post("/v1/webhook-endpoints", {
      data: { url: receiver.url, mode: "live", event_families: ["payment_intent.*"] },
    });
    expect(endpoint.status()).toBe(201);
    receiver.secret = (await endpoint.json()).secret;

    // Post 500 events, 10 at a time, each with its own idempotency key; a post cut off
    // by a kill is sent again with the same key after the restart.
    const acknowledged = new Map<number, string>();
    const post = async (n: number) => {
      for (;;) {
        const response = await api
          .post("/v1/events", {
            headers: { "idempotency-key": `crash-${n}` },
            data: { type: "payment_intent.created", data: { n } },
          })
          .catch(() => null);
        if (response && (response.status() === 201 || response.status() === 200)) {
          acknowledged.set(n, (await response.json()).id);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    for (let batch = 0; batch < 50; batch++) {
      if (batch === 15 || batch === 30) {
        kill();
        // Posts that fail while it is down are retried by `post`; restart now.
        await startServer();
      }
      await Promise.all(Array.from({ length: 10 }, (_, i) => post(batch * 10 + i)));
    }
    expect(acknowledged.size).toBe(500);
    const expected = new Set(acknowledged.values());
    expect(expected.size).toBe(500);
    await expect
      .poll(() => [...expected].filter((id) => !receiver.verifiedIds().has(id)).length, {
        timeout: 150_000,
        intervals: [1_000],
      })
      .toBe(0);
    // Every request the receiver got was signed correctly.
    expect(receiver.deliveries.filter((delivery) => !delivery.verified)).toHaveLength(0);
  } finally {
    if (server) kill();
    await receiver.stop();
  }
});
