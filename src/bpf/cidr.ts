/**
 * IPv4 and IPv6 address ranges (CIDR notation), and the LPM-trie keys that
 * hold them: `struct { __u32 prefixlen; __u8 addr[4 or 16]; }`, the address in
 * network byte order, as BPF_MAP_TYPE_LPM_TRIE expects.
 *
 * @module
 */
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError } from "../errors.ts";
import type { Codec } from "./codec.ts";

/** An address range: family, network address bytes (host bits cleared) and prefix length. */
export interface Cidr {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The network address, 4 or 16 bytes in network order, host bits zero. */
  readonly address: Uint8Array;
  /** Prefix length in bits (0 to 32, or 0 to 128). */
  readonly prefix: number;
}

function invalid(text: string, why: string): KernelError {
  return new KernelError({
    errno: ERRNO.EINVAL,
    syscall: "parseCidr",
    message: `"${text}" is not a valid address range: ${why}`,
    hint:
      "write an IPv4 or IPv6 address with an optional prefix length, such as 203.0.113.0/24, 198.51.100.7 or 2001:db8::/32",
  });
}

function parseV4(s: string): Uint8Array | string {
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

function parseV6(s: string): Uint8Array | string {
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
    if (headWords.length !== 8) return 'an IPv6 address has eight groups, or "::"';
    words.push(...headWords);
  } else {
    const missing = 8 - headWords.length - tailWords.length;
    if (missing < 1) return 'too many groups around "::"';
    words.push(...headWords, ...new Array<number>(missing).fill(0), ...tailWords);
  }
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

/**
 * Parses "203.0.113.0/24", "198.51.100.7" (a /32), "2001:db8::/32" or "::1"
 * (a /128). Host bits past the prefix are cleared: "10.1.2.3/8" is 10.0.0.0/8.
 * Anything else is a KernelError with code EINVAL that says what is wrong.
 */
export function parseCidr(text: string): Cidr {
  const s = text.trim();
  const slash = s.indexOf("/");
  const addr = slash < 0 ? s : s.slice(0, slash);
  const family: 4 | 6 = addr.includes(":") ? 6 : 4;
  const parsed = family === 4 ? parseV4(addr) : parseV6(addr);
  if (typeof parsed === "string") throw invalid(text, parsed);
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) throw invalid(text, `the prefix length must be 0 to ${max}`);
    prefix = Number(p);
  }
  for (let bit = prefix; bit < max; bit++) parsed[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { family, address: parsed, prefix };
}

/** The canonical text of a range: "203.0.113.0/24", "2001:db8::/32". */
export function formatCidr(cidr: Cidr): string {
  return `${formatAddress(cidr.address)}/${cidr.prefix}`;
}

/** The text of a 4- or 16-byte address; IPv6 in RFC 5952 form (longest zero run as "::"). */
export function formatAddress(address: Uint8Array): string {
  if (address.length === 4) return Array.from(address).join(".");
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((address[i] << 8) | address[i + 1]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

/** True when `address` (4 or 16 bytes) lies in `cidr`. */
export function cidrContains(cidr: Cidr, address: Uint8Array): boolean {
  if (address.length !== cidr.address.length) return false;
  for (let bit = 0; bit < cidr.prefix; bit++) {
    const m = 0x80 >> (bit & 7);
    if ((address[bit >> 3] & m) !== (cidr.address[bit >> 3] & m)) return false;
  }
  return true;
}

function lpmKey(family: 4 | 6): Codec<Cidr> {
  const len = family === 4 ? 4 : 16;
  return {
    size: 4 + len,
    encode(value, into) {
      if (value.family !== family) {
        throw new RangeError(`an IPv${value.family} range can't be a key of an IPv${family} LPM trie`);
      }
      new DataView(into.buffer, into.byteOffset, into.byteLength).setUint32(0, value.prefix, true);
      into.set(value.address, 4);
    },
    decode(bytes) {
      const prefix = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
      return { family, prefix, address: bytes.slice(4, 4 + len) };
    },
  };
}

/** LPM-trie key codec for IPv4 ranges: `struct { __u32 prefixlen; __u8 addr[4]; }`. */
export const cidr4: Codec<Cidr> = lpmKey(4);
/** LPM-trie key codec for IPv6 ranges: `struct { __u32 prefixlen; __u8 addr[16]; }`. */
export const cidr6: Codec<Cidr> = lpmKey(6);
