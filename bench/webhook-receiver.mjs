// The webhook benchmark's receiver: a separate process on 127.0.0.1 that answers 200 at
// once and records, per delivery, the time from the event's sending (`data.sent_at_ms`,
// written by the load generator) to its receipt. `GET /stats` reports, `POST /reset`
// clears. Usage: node webhook-receiver.mjs <port>
import { createServer } from "node:http";

const now = () => performance.timeOrigin + performance.now();
let latencies = [];
let first = null;
let last = null;

const server = createServer((request, response) => {
  if (request.method === "GET" && request.url === "/stats") {
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null);
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ count: latencies.length, first, last, p50: at(0.5), p99: at(0.99) }));
    return;
  }
  if (request.method === "POST" && request.url === "/reset") {
    latencies = [];
    first = last = null;
    response.end();
    return;
  }
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const received = now();
    response.statusCode = 200;
    response.end();
    try {
      const sent = JSON.parse(Buffer.concat(chunks).toString()).data.sent_at_ms;
      latencies.push(received - sent);
    } catch {
      latencies.push(NaN);
    }
    first ??= received;
    last = received;
  });
});
server.keepAliveTimeout = 120_000;
server.listen(Number(process.argv[2]), "127.0.0.1");
