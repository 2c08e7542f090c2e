// Calls a server function as the signed-in page would, for a spec's setup: same-origin,
// and the answer must be 200.
import { APIRequestContext, expect } from "@playwright/test";

export async function serverFn(request: APIRequestContext, name: string, body: unknown) {
  const response = await request.post(`/api/${name}`, {
    data: body,
    headers: { "sec-fetch-site": "same-origin" },
  });
  expect(response.status(), `${name}: ${await response.text()}`).toBe(200);
  return response.json();
}
