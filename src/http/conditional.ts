/**
 * Validators and the requests that depend on them (RFC 9110 sections 8.8, 13
 * and 14): ETag and Last-Modified, If-None-Match and If-Modified-Since (304),
 * Range and If-Range (206, 416), and HTTP dates.
 *
 * @module
 */

/** What a file's validators are made of: statx fields. */
export interface FileVersion {
  /** Inode number. */
  readonly ino: number;
  /** Size in bytes. */
  readonly size: number;
  /** Last modification, ms since the epoch (with sub-ms precision). */
  readonly mtimeMs: number;
}

/**
 * A strong ETag from inode, size and modification time (in µs): it changes
 * when the file is replaced (new inode), resized or written. Like nginx's, it
 * is computed, not hashed, so it costs nothing per request.
 */
export function etagOf(file: FileVersion): string {
  return `"${file.ino.toString(16)}-${file.size.toString(16)}-${Math.round(file.mtimeMs * 1000).toString(16)}"`;
}

/** An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for a time in ms. */
export function httpDate(ms: number): string {
  // toUTCString gives exactly IMF-fixdate in V8 and JavaScriptCore.
  return new Date(ms).toUTCString();
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const IMF = /^[a-z]{3}, (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) gmt$/i;
const RFC850 = /^[a-z]+, (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) gmt$/i;
const ASCTIME = /^[a-z]{3} ([a-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/i;

function utc(y: number, mon: string, d: number, h: number, mi: number, s: number): number {
  const m = MONTHS.indexOf(mon.toLowerCase());
  if (m < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return NaN;
  return Date.UTC(y, m, d, h, mi, s);
}

/**
 * An HTTP-date in any of the three forms RFC 9110 says to accept (IMF-fixdate,
 * RFC 850, asctime) as ms since the epoch, or NaN when it is none of them.
 */
export function parseHttpDate(text: string): number {
  let m = IMF.exec(text);
  if (m) return utc(+m[3], m[2], +m[1], +m[4], +m[5], +m[6]);
  m = RFC850.exec(text);
  if (m) {
    // Two-digit years: more than 50 years ahead means the last century (RFC 9110 5.6.7).
    let y = 2000 + +m[3];
    if (y > new Date().getUTCFullYear() + 50) y -= 100;
    return utc(y, m[2], +m[1], +m[4], +m[5], +m[6]);
  }
  m = ASCTIME.exec(text);
  if (m) return utc(+m[6], m[1], +m[2].trim(), +m[3], +m[4], +m[5]);
  return NaN;
}

/** Weak comparison of an If-None-Match list ("*", or quoted tags with optional W/) with `etag`. */
export function noneMatchHits(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  const opaque = etag.startsWith("W/") ? etag.slice(2) : etag;
  for (const raw of header.split(",")) {
    let tag = raw.trim();
    if (tag.startsWith("W/")) tag = tag.slice(2);
    if (tag === opaque) return true;
  }
  return false;
}

/**
 * Whether a GET or HEAD gets 304 Not Modified: If-None-Match when present
 * (then If-Modified-Since is ignored, RFC 9110 13.2.2), else If-Modified-Since
 * against the modification time at one-second precision.
 */
export function isNotModified(headers: ReadonlyMap<string, string>, etag: string, mtimeMs: number): boolean {
  const inm = headers.get("if-none-match");
  if (inm !== undefined) return noneMatchHits(inm, etag);
  const ims = headers.get("if-modified-since");
  if (ims === undefined) return false;
  const since = parseHttpDate(ims);
  return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

/** A byte range to serve, inclusive of `end`. */
export interface ByteRange {
  /** The first byte's offset. */
  readonly start: number;
  /** The last byte's offset (inclusive). */
  readonly end: number;
}

/** What a Range header asks of a file of a given size. */
export type RangeRequest =
  /** No Range, or one to ignore: serve the whole file (200). */
  | { readonly kind: "whole" }
  /** Serve this range (206). */
  | { readonly kind: "range"; readonly range: ByteRange }
  /** The range starts past the end (416). */
  | { readonly kind: "unsatisfiable" };

const WHOLE: RangeRequest = { kind: "whole" };
const UNSATISFIABLE: RangeRequest = { kind: "unsatisfiable" };
const SINGLE = /^bytes[ \t]*=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i;

/**
 * Evaluates a Range header against a file of `size` bytes. One range is
 * served (206); a header that is not one valid byte range, or asks for
 * several, is ignored and the whole file is served (RFC 9110 14.2 allows
 * both); a range that starts past the end is "unsatisfiable" (416).
 */
export function evaluateRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return WHOLE;
  const m = SINGLE.exec(header);
  if (!m || (m[1] === "" && m[2] === "")) return WHOLE;
  if (m[1] === "") {
    // A suffix: the last N bytes.
    const n = Number(m[2]);
    if (n === 0 || size === 0) return UNSATISFIABLE;
    return { kind: "range", range: { start: Math.max(0, size - n), end: size - 1 } };
  }
  const start = Number(m[1]);
  const last = m[2] === "" ? Infinity : Number(m[2]);
  if (last < start) return WHOLE; // invalid: ignored
  if (start >= size) return UNSATISFIABLE;
  return { kind: "range", range: { start, end: Math.min(last, size - 1) } };
}

/**
 * Whether an If-Range condition holds, so the Range may be honoured: a strong
 * ETag equal to `etag`, or a date equal to Last-Modified. Weak tags never hold.
 */
export function ifRangeHolds(header: string | undefined, etag: string, lastModified: string): boolean {
  if (header === undefined) return true;
  const v = header.trim();
  if (v.startsWith("W/")) return false;
  if (v.startsWith("\"")) return v === etag;
  return v === lastModified;
}
