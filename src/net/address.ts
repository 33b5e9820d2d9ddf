/**
 * IP addresses as bytes in network order, and sockaddr_in / sockaddr_in6.
 *
 * @module
 */
import { AF_INET, AF_INET6, sockaddr_in, sockaddr_in6 } from "../../ffi/structs/socket.ts";
import { KernelError } from "../errors.ts";

/** An IP address: family and 4 or 16 bytes in network order. */
export interface IpAddress {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The address bytes, network order. */
  readonly bytes: Uint8Array;
}

/** Parses dotted IPv4; returns the 4 bytes, or why the text is not an address. */
export function parseV4(s: string): Uint8Array | string {
  const parts = s.split(".");
  if (parts.length !== 4) return "an IPv4 address has four dot-separated numbers";
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return `"${parts[i]}" is not a number from 0 to 255`;
    const n = Number(parts[i]);
    if (n > 255) return `${n} is more than 255`;
    out[i] = n;
  }
  return out;
}

/** Parses IPv6 (with "::" and a trailing dotted quad); returns the 16 bytes, or why not. */
export function parseV6(s: string): Uint8Array | string {
  const out = new Uint8Array(16);
  const halves = s.split("::");
  if (halves.length > 2) return `"::" may appear only once`;
  const groups = (part: string): string[] => (part === "" ? [] : part.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const words: number[] = [];
  const take = (list: string[], into: number[]): string | undefined => {
    for (let i = 0; i < list.length; i++) {
      const g = list[i];
      if (i === list.length - 1 && g.includes(".")) {
        const v4 = parseV4(g);
        if (typeof v4 === "string") return v4;
        into.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) into.push(parseInt(g, 16));
      else return `"${g}" is not a group of 1 to 4 hex digits`;
    }
    return undefined;
  };
  const headWords: number[] = [];
  const tailWords: number[] = [];
  const e1 = take(head, headWords) ?? take(tail, tailWords);
  if (e1) return e1;
  if (halves.length === 1) {
    if (headWords.length !== 8) return "an IPv6 address has eight groups, or \"::\"";
    words.push(...headWords);
  } else {
    const missing = 8 - headWords.length - tailWords.length;
    if (missing < 1) return "too many groups around \"::\"";
    words.push(...headWords, ...new Array<number>(missing).fill(0), ...tailWords);
  }
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

/** Parses an IPv4 or IPv6 address ("127.0.0.1", "::1"); throws a KernelError (EINVAL) naming `syscall` otherwise. */
export function parseIp(text: string, syscall = "inet_pton"): IpAddress {
  const family: 4 | 6 = text.includes(":") ? 6 : 4;
  const parsed = family === 4 ? parseV4(text) : parseV6(text);
  if (typeof parsed === "string") {
    throw new KernelError({
      errno: 22,
      syscall,
      message: `"${text}" is not an IP address: ${parsed}`,
      hint: "give an IPv4 or IPv6 address such as 127.0.0.1 or ::1",
    });
  }
  return { family, bytes: parsed };
}

/** The text form of 4 or 16 address bytes: "127.0.0.1", "2001:db8::1". */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  const words = Array.from({ length: 8 }, (_, i) => (bytes[i * 2] << 8) | bytes[i * 2 + 1]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** A struct sockaddr_in or sockaddr_in6 for `address` and `port`. */
export function sockaddr(address: IpAddress, port: number): Uint8Array {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new KernelError({ errno: 22, syscall: "bind", subject: `port ${port}`, hint: "the port must be an integer from 0 to 65535" });
  }
  const layout = address.family === 4 ? sockaddr_in : sockaddr_in6;
  const out = layout.alloc();
  const v = new DataView(out.buffer);
  v.setUint16(0, address.family === 4 ? AF_INET : AF_INET6, true);
  v.setUint16(2, port, false); // network order
  out.set(address.bytes, layout.offsetof(address.family === 4 ? "sin_addr" : "sin6_addr"));
  return out;
}

/** Decodes a sockaddr_in or sockaddr_in6 into address text and port. */
export function decodeSockaddr(bytes: Uint8Array): { readonly hostname: string; readonly port: number; readonly family: 4 | 6 } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const family = v.getUint16(0, true) === AF_INET6 ? 6 : 4;
  const layout = family === 4 ? sockaddr_in : sockaddr_in6;
  const at = layout.offsetof(family === 4 ? "sin_addr" : "sin6_addr");
  return { family, port: v.getUint16(2, false), hostname: formatIp(bytes.subarray(at, at + (family === 4 ? 4 : 16))) };
}
