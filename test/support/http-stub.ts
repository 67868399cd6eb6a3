/**
 * A recording HTTP server on 127.0.0.1 standing in for cloud endpoints (QStash's API, CloudWatch,
 * callback receivers). Each request is recorded with its raw (gunzipped) body; the reply comes from
 * a replaceable responder.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface StubReply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpStub {
  url: string;
  requests: RecordedRequest[];
  respond: (fn: (req: RecordedRequest, index: number) => StubReply) => void;
  close: () => Promise<void>;
}

export async function startHttpStub(initial: (req: RecordedRequest, index: number) => StubReply = () => ({ status: 200, body: "{}" })): Promise<HttpStub> {
  let responder = initial;
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let raw = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
      const rec: RecordedRequest = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: raw.toString("utf8") };
      requests.push(rec);
      const reply = responder(rec, requests.length - 1);
      res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...reply.headers });
      res.end(reply.body ?? "{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond: (fn) => void (responder = fn),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
