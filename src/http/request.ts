/**
 * HTTP/1.x request heads (RFC 9112): finding the end of a head in received
 * bytes and parsing its request line and header fields.
 *
 * The parser is strict where leniency lets requests be smuggled (a body
 * length given twice, Transfer-Encoding with Content-Length, obs-fold,
 * whitespace before a colon, control characters) and lenient where RFC 9112
 * allows it (bare LF line ends, empty lines before the request line).
 *
 * @module
 */

/** A parsed request head. */
export interface RequestHead {
  /** The method, case-sensitive as sent ("GET"). */
  readonly method: string;
  /** The request-target as sent: "/a/b?q=1", "http://host/a", "*". */
  readonly target: string;
  /** The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1 (higher 1.x minors count as 1). */
  readonly minor: number;
  /** Header fields by lower-case name; repeated fields are joined with ", ". */
  readonly headers: ReadonlyMap<string, string>;
  /** Bytes of the head, including the blank line that ends it (and any empty lines before it). */
  readonly length: number;
  /** Whether the client lets the connection stay open after this request (Connection and version). */
  readonly keepAlive: boolean;
  /** The body length from Content-Length; 0 when absent. */
  readonly contentLength: number;
  /** True when Transfer-Encoding was sent (the body length is then unknown here). */
  readonly chunked: boolean;
}

/** The outcome of {@link parseRequestHead}. */
export type ParseResult =
  /** More bytes are needed. */
  | { readonly kind: "incomplete" }
  /** A whole head: `head.length` bytes of the input. */
  | { readonly kind: "request"; readonly head: RequestHead }
  /** A head that can't be served: answer `status` and close the connection. */
  | {
    readonly kind: "error";
    /** The status to answer with: 400, 414, 431 or 505. */
    readonly status: 400 | 414 | 431 | 505;
    /** Why, for logs and the response body. */
    readonly reason: string;
    /** Bytes the malformed head took, when its end was found; the connection must close anyway. */
    readonly length: number;
  };

/** Options of {@link parseRequestHead}. */
export interface ParseOptions {
  /** The largest head accepted, request line included, in bytes. Default 16 KiB. */
  readonly maxHeaderSize?: number;
}

const INCOMPLETE: ParseResult = { kind: "incomplete" };
const LF = 10;
const CR = 13;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Visible ASCII and obs-text; no controls, space or DEL.
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;
// Field values: visible characters, SP, HTAB and obs-text.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const VERSION = /^HTTP\/(\d)(?:\.(\d))?$/;

function fail(status: 400 | 414 | 431 | 505, reason: string, length: number): ParseResult {
  return { kind: "error", status, reason, length };
}

/** Bytes [start, end) as a Latin-1 string (each byte one char). */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  }
  return s;
}

/**
 * Parses the request head at the start of `bytes`. Returns "incomplete" when
 * the head has not fully arrived yet and fits in the limit, "request" with the
 * head and its byte length, or "error" with the status to answer (400
 * malformed, 414 request line too long, 431 head too large, 505 not HTTP/1.x).
 * The bytes after `head.length` belong to the body or the next request.
 */
export function parseRequestHead(bytes: Uint8Array, options: ParseOptions = {}): ParseResult {
  const limit = options.maxHeaderSize ?? 16 * 1024;
  const n = bytes.length;
  // RFC 9112 2.2: ignore empty lines received before the request line.
  let start = 0;
  while (start < n && (bytes[start] === CR || bytes[start] === LF)) start++;
  const stop = Math.min(n, start + limit);
  let firstLineEnd = -1;
  let end = -1;
  let lineStart = start;
  for (let i = start; i < stop; i++) {
    if (bytes[i] !== LF) continue;
    const lineEnd = i > lineStart && bytes[i - 1] === CR ? i - 1 : i;
    if (firstLineEnd < 0) firstLineEnd = lineEnd;
    else if (lineEnd === lineStart) {
      end = i + 1;
      break;
    }
    lineStart = i + 1;
  }
  if (end < 0) {
    if (n - start < limit) return INCOMPLETE;
    return firstLineEnd < 0
      ? fail(414, `the request line is longer than ${limit} bytes`, 0)
      : fail(431, `the request head is larger than ${limit} bytes`, 0);
  }
  return parseLines(latin1(bytes, start, end), end);
}

function parseLines(text: string, length: number): ParseResult {
  const lines = text.split("\n");
  // The head ends with an empty line: drop it and the empty string after its LF.
  lines.length -= 2;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.charCodeAt(l.length - 1) === CR) lines[i] = l.slice(0, -1);
  }
  const parts = lines[0].split(" ");
  if (parts.length !== 3) return fail(400, "the request line is not METHOD SP TARGET SP VERSION", length);
  const [method, target, version] = parts;
  const v = VERSION.exec(version);
  if (!v) return fail(400, `"${version.slice(0, 32)}" is not an HTTP version`, length);
  if (v[1] !== "1") return fail(505, `HTTP/${v[1]} is not supported: this server speaks HTTP/1.0 and HTTP/1.1`, length);
  if (v[2] === undefined) return fail(400, `"${version}" has no minor version`, length);
  if (!TOKEN.test(method)) return fail(400, "the method is not a token", length);
  if (!TARGET.test(target)) return fail(400, "the request target has spaces or control characters", length);
  const minor = v[2] === "0" ? 0 : 1;

  const headers = new Map<string, string>();
  let contentLength = -1;
  let hosts = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0) {
      const c = line.charCodeAt(0);
      return fail(400, c === 32 || c === 9 ? "obsolete line folding is not accepted" : "a header line has no name", length);
    }
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) return fail(400, "a header name is not a token (whitespace before the colon?)", length);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (!FIELD_VALUE.test(value)) return fail(400, `header ${name} has control characters`, length);
    if (name === "content-length") {
      if (!/^\d{1,15}$/.test(value)) return fail(400, "Content-Length is not a number", length);
      const cl = Number(value);
      if (contentLength >= 0 && cl !== contentLength) return fail(400, "Content-Length is given twice with different values", length);
      contentLength = cl;
      headers.set(name, value);
      continue;
    }
    if (name === "host") hosts++;
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  if (minor === 1 && hosts !== 1) return fail(400, hosts === 0 ? "HTTP/1.1 requests need a Host header" : "Host is given more than once", length);
  const chunked = headers.has("transfer-encoding");
  if (chunked && contentLength >= 0) return fail(400, "both Transfer-Encoding and Content-Length were sent", length);
  if (chunked && minor === 0) return fail(400, "Transfer-Encoding is not defined for HTTP/1.0", length);
  const connection = headers.get("connection")?.toLowerCase();
  const tokens = connection === undefined ? [] : connection.split(",").map((t) => t.trim());
  const keepAlive = minor === 1 ? !tokens.includes("close") : tokens.includes("keep-alive");
  return {
    kind: "request",
    head: { method, target, minor, headers, length, keepAlive, contentLength: Math.max(0, contentLength), chunked },
  };
}
