/**
 * A raw HTTP/1.1 client over node:net for the server tests: it writes exactly
 * the bytes given (pipelined requests, malformed ones) and parses the
 * responses that come back, by Content-Length.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import net from "node:net";

/** One parsed response. */
export interface RawResponse {
  readonly status: number;
  /** Header fields by lower-case name. */
  readonly headers: Map<string, string>;
  readonly body: Buffer;
}

/** What {@link exchange} saw on the connection. */
export interface Exchange {
  readonly responses: RawResponse[];
  /** True when the server closed the connection (FIN or reset) before the client did. */
  readonly closedByServer: boolean;
  /** Every byte received. */
  readonly raw: Buffer;
}

/** Options of {@link exchange}. */
export interface ExchangeOptions {
  /** Stop after this many responses (the connection is then closed by the client). */
  readonly responses?: number;
  /** Which responses have no body although they carry a Content-Length (answers to HEAD), by index. */
  readonly bodiless?: readonly number[];
  /** Give up after this long; the promise still resolves with what arrived. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Wait for the server to close the connection instead of stopping at `responses`. */
  readonly untilClose?: boolean;
}

/** Parses as many whole responses as `data` holds, starting at `at`. */
function parseResponses(data: Buffer, bodiless: readonly number[], out: RawResponse[]): void {
  let at = 0;
  for (;;) {
    const end = data.indexOf("\r\n\r\n", at);
    if (end < 0) return;
    const lines = data.subarray(at, end).toString("latin1").split("\r\n");
    const status = Number(lines[0].split(" ")[1]);
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const c = l.indexOf(":");
      headers.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
    }
    const noBody = bodiless.includes(out.length) || status === 304 || status === 204 || (status >= 100 && status < 200);
    const length = noBody ? 0 : Number(headers.get("content-length") ?? 0);
    if (data.length < end + 4 + length) return;
    out.push({ status, headers, body: Buffer.from(data.subarray(end + 4, end + 4 + length)) });
    at = end + 4 + length;
    if (at >= data.length) return;
  }
}

/** Connects to 127.0.0.1:`port`, writes `request`, and collects responses. */
export function exchange(port: number, request: string | Uint8Array, options: ExchangeOptions = {}): Promise<Exchange> {
  const want = options.responses ?? 1;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let closedByServer = false;
    let finished = false;
    const socket = net.connect({ host: "127.0.0.1", port });
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks);
      const responses: RawResponse[] = [];
      parseResponses(raw, options.bodiless ?? [], responses);
      resolve({ responses, closedByServer, raw });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 5000);
    socket.on("connect", () => socket.write(typeof request === "string" ? Buffer.from(request, "latin1") : request));
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      if (options.untilClose) return;
      const got: RawResponse[] = [];
      parseResponses(Buffer.concat(chunks), options.bodiless ?? [], got);
      if (got.length >= want) finish();
    });
    socket.on("end", () => {
      closedByServer = true;
      finish();
    });
    socket.on("close", () => {
      if (!finished) closedByServer = true;
      finish();
    });
    socket.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ECONNRESET" || e.code === "EPIPE") {
        closedByServer = true;
        finish();
      } else if (!finished) {
        finished = true;
        clearTimeout(timer);
        reject(e);
      }
    });
  });
}

/** One GET (or `method`) of `path` with HTTP/1.1 and extra header lines; resolves with the first response. */
export async function get(port: number, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<RawResponse> {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  const r = await exchange(port, `${method} ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`, { bodiless: method === "HEAD" ? [0] : [] });
  if (r.responses.length === 0) throw new Error(`no response to ${method} ${path}: got ${JSON.stringify(r.raw.toString("latin1").slice(0, 200))}`);
  return r.responses[0];
}
