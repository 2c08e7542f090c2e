// A real webhook receiver on 127.0.0.1 for the browser and crash tests. It verifies
// every request with the official Standard Webhooks library (`standardwebhooks`,
// unchanged) and records what verified; the test decides how it answers.
import { createServer, IncomingMessage, Server } from "node:http";
import { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Delivery {
  id: string;
  type: string;
  verified: boolean;
  /** The body and the signature header, as received. */
  body: string;
  signature: string;
}

export class Receiver {
  readonly deliveries: Delivery[] = [];
  secret: string | null = null;
  /** The HTTP status for a request, given its webhook-id and how often it came before. */
  answer: (id: string, seenBefore: number) => number = () => 200;
  private server: Server;
  url = "";

  private constructor() {
    this.server = createServer(async (request, response) => {
      const body = await readBody(request);
      const id = String(request.headers["webhook-id"] ?? "");
      let verified = false;
      let type = "";
      try {
        if (this.secret) {
          const headers = {
            "webhook-id": id,
            "webhook-timestamp": String(request.headers["webhook-timestamp"] ?? ""),
            "webhook-signature": String(request.headers["webhook-signature"] ?? ""),
          };
          const payload = new Webhook(this.secret).verify(body, headers) as { type: string };
          verified = true;
          type = payload.type;
        }
      } catch {
        verified = false;
      }
      const seenBefore = this.deliveries.filter((delivery) => delivery.id === id).length;
      const signature = String(request.headers["webhook-signature"] ?? "");
      this.deliveries.push({ id, type, verified, body, signature });
      response.statusCode = verified ? this.answer(id, seenBefore) : 400;
      response.end(verified ? "ok" : "signature did not verify");
    });
  }

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
    const { port } = receiver.server.address() as AddressInfo;
    receiver.url = `http://127.0.0.1:${port}/hook`;
    return receiver;
  }

  /** Event ids received and verified. */
  verifiedIds(): Set<string> {
    return new Set(this.deliveries.filter((delivery) => delivery.verified).map((delivery) => delivery.id));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}
