// The webhook benchmark's load: posts events through `POST /v1/events` and reads the
// receiver's figures. Two phases:
//   throughput: EVENTS events from CONCURRENCY posters as fast as accepted, then waits
//               for every delivery; prints events accepted/s and deliveries/s (from the
//               first post to the last receipt).
//   latency:    RATE events/s for SECONDS seconds, open loop; prints p50/p99 from
//               sending an event to its receipt.
// Usage: node webhook-load.mjs <base> <key> <receiver-base> <endpoints> <label>
const [base, key, receiver, endpoints, label] = process.argv.slice(2);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_POSTERS ?? 16);
const RATE = Number(process.env.BENCH_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 10);
const now = () => performance.timeOrigin + performance.now();

async function post() {
  const response = await fetch(`${base}/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ type: "payment_intent.created", data: { sent_at_ms: now(), amount: 4200 } }),
  });
  if (response.status !== 201) throw new Error(`POST /v1/events answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

async function stats() {
  return (await fetch(`${receiver}/stats`)).json();
}

async function waitFor(count, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const figures = await stats();
    if (figures.count >= count || Date.now() > deadline) return figures;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const expected = (events) => events * Number(endpoints);

// Throughput.
await fetch(`${receiver}/reset`, { method: "POST" });
let next = 0;
const started = now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < EVENTS) {
      next += 1;
      await post();
    }
  }),
);
const posted = now();
const throughput = await waitFor(expected(EVENTS), 120_000);
const acceptedPerSecond = EVENTS / ((posted - started) / 1000);
const deliveriesPerSecond = throughput.count / ((throughput.last - started) / 1000);
const ceiling = Number(process.env.BENCH_RECEIVER_RAW_RATE ?? NaN);
console.log(
  `${label} throughput: ${EVENTS} events x ${endpoints} endpoints, ${CONCURRENCY} posters: ` +
    `${acceptedPerSecond.toFixed(0)} events accepted/s, ${deliveriesPerSecond.toFixed(0)} deliveries/s ` +
    `= ${(deliveriesPerSecond / ceiling).toFixed(3)} of the receiver's ceiling ` +
    `(${throughput.count}/${expected(EVENTS)} delivered)`,
);

// Latency at a steady rate.
await fetch(`${receiver}/reset`, { method: "POST" });
const total = RATE * SECONDS;
const interval = 1000 / RATE;
const begin = now();
const inFlight = [];
for (let i = 0; i < total; i++) {
  const due = begin + i * interval;
  const wait = due - now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  inFlight.push(post());
}
await Promise.all(inFlight);
const latency = await waitFor(expected(total), 60_000);
console.log(
  `${label} latency at ${RATE} events/s x ${endpoints} endpoints for ${SECONDS}s: ` +
    `p50 ${latency.p50?.toFixed(1)} ms, p99 ${latency.p99?.toFixed(1)} ms from sending to receipt ` +
    `(${latency.count}/${expected(total)} delivered)`,
);
