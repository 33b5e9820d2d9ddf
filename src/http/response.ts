/**
 * Response heads: status lines, the header block, and the small complete
 * responses (errors, redirects, 304) that carry their body in the same bytes.
 *
 * Heads are Latin-1 (one byte per char), as HTTP/1.1 field values are; every
 * value put here is ASCII or was escaped first.
 *
 * @module
 */
import { httpDate } from "./conditional.ts";

/** Reason phrases of the statuses the server sends. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: "OK",
  206: "Partial Content",
  301: "Moved Permanently",
  304: "Not Modified",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  414: "URI Too Long",
  416: "Range Not Satisfiable",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

let dateSecond = -1;
let dateText = "";

/** Today's Date header value, formatted once per second. */
export function currentDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = httpDate(now);
  }
  return dateText;
}

/** Encodes a Latin-1 string (chars 0 to 255) as one byte per char. */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * The status line and the common headers (Server, Date, Connection), then
 * `fields` ("Name: value" each), then the blank line. HTTP/1.0 clients get
 * "Connection: keep-alive" when the connection stays open, HTTP/1.1 clients
 * "Connection: close" when it doesn't.
 */
export function responseHead(status: number, minor: number, keepAlive: boolean, fields: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Unknown"}\r\nServer: kernelkit\r\nDate: ${currentDate()}\r\n`;
  if (!keepAlive) head += "Connection: close\r\n";
  else if (minor === 0) head += "Connection: keep-alive\r\n";
  for (const f of fields) head += `${f}\r\n`;
  return `${head}\r\n`;
}

/**
 * A complete short response with a text/plain body (omitted for HEAD, when
 * `withBody` is false, but its Content-Length is still given).
 */
export function textResponse(
  status: number,
  minor: number,
  keepAlive: boolean,
  withBody: boolean,
  extra: readonly string[] = [],
): Uint8Array {
  const body = `${status} ${STATUS_TEXT[status] ?? "Unknown"}\n`;
  const head = responseHead(status, minor, keepAlive, [
    ...extra,
    "Content-Type: text/plain; charset=utf-8",
    "X-Content-Type-Options: nosniff",
    `Content-Length: ${body.length}`,
  ]);
  return latin1Bytes(withBody ? head + body : head);
}
