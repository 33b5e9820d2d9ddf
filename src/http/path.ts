/**
 * Request targets to paths under the served root, and nothing else.
 *
 * This is the first of two locks. It turns the request-target into a relative
 * path of clean segments, and refuses anything that tries to climb: a `..`
 * segment (also when percent-encoded as `%2e%2e`), an encoded slash (`%2f`),
 * a NUL byte (`%00`). An absolute path in the target is relative to the root,
 * as every target is. The second lock is in the kernel: files are opened with
 * openat2(2) and RESOLVE_BENEATH relative to the root's directory fd, so that a
 * symlink that leads out of the root fails with EXDEV instead of being followed.
 *
 * @module
 */

/** A target that names a path under the root. */
export interface ResolvedPath {
  /** Tells the two outcomes apart. */
  readonly kind: "path";
  /** Clean segments joined with "/", no leading slash; "" is the root itself. */
  readonly path: string;
  /** The decoded path ended with "/" (a directory was asked for). */
  readonly trailingSlash: boolean;
  /** The query, with its "?", or "". */
  readonly query: string;
}

/** A target that names nothing the server will serve. */
export interface RejectedPath {
  /** Tells the two outcomes apart. */
  readonly kind: "reject";
  /** 400 for a target that is not a valid path; 403 for one that tries to leave the root or smuggle bytes. */
  readonly status: 400 | 403;
  /** Why, for logs. */
  readonly reason: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const HEX = /^[0-9a-fA-F]{2}$/;

function reject(status: 400 | 403, reason: string): RejectedPath {
  return { kind: "reject", status, reason };
}

/**
 * Decodes the `%XX` escapes of a path once, to bytes, then UTF-8. Returns a
 * RejectedPath for a broken escape, invalid UTF-8, an encoded "/" or a NUL.
 * A "%25" becomes "%" and stays that way: nothing is decoded twice.
 */
export function percentDecode(raw: string): string | RejectedPath {
  if (!raw.includes("%")) {
    // The common case; raw bytes >= 0x80 (Latin-1 chars here) still need the UTF-8 pass.
    if (!/[\x80-\xff]/.test(raw)) return raw;
  }
  const out = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 37) {
      out[n++] = c;
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return reject(400, `"%${hex}" is not a percent-encoded byte`);
    const b = parseInt(hex, 16);
    if (b === 0) return reject(403, "the path holds a NUL byte (%00)");
    if (b === 0x2f) return reject(403, "the path holds an encoded slash (%2f)");
    out[n++] = b;
    i += 2;
  }
  try {
    return utf8.decode(out.subarray(0, n));
  } catch {
    return reject(400, "the decoded path is not valid UTF-8");
  }
}

/**
 * The path under the root that a request-target names, or why it names none.
 * Accepts origin-form ("/a/b?q") and absolute-form ("http://host/a/b");
 * empty and "." segments are dropped; a ".." segment is refused with 403.
 */
export function resolveTarget(target: string): ResolvedPath | RejectedPath {
  let rest = target;
  if (rest.charCodeAt(0) !== 47) {
    // absolute-form (RFC 9112 3.2.2): the path starts after the authority.
    const m = /^https?:\/\/[^/?#]*/i.exec(rest);
    if (!m) return reject(400, "the request target is not a path or an http URL");
    rest = rest.slice(m[0].length) || "/";
    if (rest.charCodeAt(0) !== 47) rest = `/${rest}`;
  }
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf("?");
  const rawPath = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? rest.slice(q) : "";
  const decoded = percentDecode(rawPath);
  if (typeof decoded !== "string") return decoded;
  if (decoded.includes("\0")) return reject(403, "the path holds a NUL byte");
  const segments: string[] = [];
  for (const s of decoded.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") return reject(403, "the path climbs with \"..\"");
    segments.push(s);
  }
  return { kind: "path", path: segments.join("/"), trailingSlash: decoded.endsWith("/"), query };
}

/**
 * The Location of the redirect that adds a trailing slash to a directory's
 * path: rebuilt from the clean segments, never echoed from the request, so
 * that "//evil.example" can't become a redirect to another host.
 */
export function directoryLocation(resolved: ResolvedPath): string {
  const path = resolved.path.split("/").map(encodeURIComponent).join("/");
  // The query came in as visible ASCII or raw bytes; bytes above 0x7f are escaped for the header.
  const query = resolved.query.replace(/[\x80-\xff]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return path === "" ? `/${query}` : `/${path}/${query}`;
}
