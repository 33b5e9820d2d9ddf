/**
 * The API fuzzer's action model (issue 9, part 1): what a random call against
 * kernelkit's public API looks like, how fast-check generates it, and the
 * interpreter that runs a sequence of them against the real kernel.
 *
 * An action is a plain JSON object (`{ t: "read", r: 0, fd: { raw: "NaN" }, ... }`),
 * so that a failing sequence shrinks, prints and is saved as a regression case
 * in tests/stress/regressions/. Numbers JSON can't hold are strings: "NaN",
 * "Infinity", "-Infinity", "-0" (see {@link num}).
 *
 * The invariant every call is held to: it succeeds, or it throws (or rejects
 * with) a KernelError, or a TypeError for wrong JS types. Anything else (a
 * RangeError, a plain Error, a promise that never settles, an unhandled
 * rejection, a signal) is a failure. A few sharper oracles ride along: a call
 * given an fd that is not an int32 or a path with a NUL byte must not
 * succeed; a call on a closed object must fail with EBADF; a closed mapping's
 * stale view must read zeros; a KernelError must carry a code and a syscall;
 * EFAULT (the kernel saw a bad address) and TypeErrors thrown by the FFI layer
 * (a number it refused, which kernelkit should have checked) are failures too.
 *
 * What the fuzzer must never do, whatever it draws, so that a failure is
 * kernelkit's and not the fuzzer's own havoc: close or read an fd it doesn't
 * own (a runtime's epoll fd, a ring's eventfd), truncate a file while it is
 * mapped (that is SIGBUS by design), attach XDP to any interface but the test's
 * veth, write outside its temp dir, or ask for gigabytes of real memory.
 *
 * @module
 */
import fc from "fast-check";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ADVICE_NAMES,
  BpfMap,
  BpfObject,
  type BpfProgram,
  closeFd,
  connect,
  CWD,
  FileMapping,
  KernelError,
  listen,
  mapFile,
  mapMemory,
  type Mapping,
  pread,
  pwrite,
  queryXdp,
  Ring,
  type TcpListener,
  type TcpSocket,
  XdpFirewall,
  XdpLink,
} from "../../src/mod.ts";

// ---------------------------------------------------------------------------
// Numbers

/** A number as an action holds it: JSON numbers, and the four JSON can't say as strings. */
export type Num = number | "NaN" | "Infinity" | "-Infinity" | "-0";

/** The JS number of a {@link Num}. */
export function num(n: Num): number {
  if (typeof n === "number") return n;
  switch (n) {
    case "NaN":
      return NaN;
    case "Infinity":
      return Infinity;
    case "-Infinity":
      return -Infinity;
    default:
      return -0;
  }
}

/** Like {@link num}, keeping undefined. */
function numOr(n: Num | undefined): number | undefined {
  return n === undefined ? undefined : num(n);
}

/** Numbers that break careless code: not integers, not int32, not safe, negative. */
const ODD: Num[] = [
  "NaN",
  "Infinity",
  "-Infinity",
  "-0",
  -1,
  1.5,
  2 ** 31,
  2 ** 32 + 3,
  2 ** 53,
  -(2 ** 31) - 1,
  2 ** 63,
];

const special = fc.constantFrom<Num>(...ODD);

/** Mostly `valid`, sometimes one of `extra`, sometimes an odd number. */
function numArb(valid: fc.Arbitrary<number>, extra: Num[] = []): fc.Arbitrary<Num> {
  const arbs: Array<fc.WeightedArbitrary<Num>> = [
    { weight: 6, arbitrary: valid },
    { weight: 2, arbitrary: special },
  ];
  if (extra.length) arbs.push({ weight: 2, arbitrary: fc.constantFrom<Num>(...extra) });
  return fc.oneof(...arbs);
}

/** True when `n` can be an fd at all (an int32); anything else must never reach the kernel as some other fd. */
function int32(n: number): boolean {
  return (n | 0) === n;
}

// ---------------------------------------------------------------------------
// Actions

/**
 * One fuzzed call (or a short fixed chain of calls). `t` says which; the
 * other fields are its arguments, with indexes into the sequence's objects
 * taken modulo how many there are (nothing of that kind yet: the action is
 * skipped).
 */
export interface Action {
  /** The kind of action. */
  readonly t: string;
  // deno-lint-ignore no-explicit-any
  readonly [field: string]: any;
}

/** Which part of the API an action exercises; the summary counts per area. */
export type Area = "ring" | "memory" | "socket" | "bpf" | "xdp";

/** The areas, in report order. */
export const AREAS: readonly Area[] = ["ring", "memory", "socket", "bpf", "xdp"];

/** An fd argument: one the sequence opened, one it closed, a socket's, or a raw number. */
type FdRef = { own: number } | { closed: number } | { sock: number } | { raw: Num };

const RAW_FDS: Num[] = [-1, -100, 0, 19_999, 1_000_000, 2 ** 31 - 1, ...ODD];

const idx = fc.nat(7);
const fdArb: fc.Arbitrary<FdRef> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ own: idx }) },
  { weight: 2, arbitrary: fc.record({ closed: idx }) },
  { weight: 1, arbitrary: fc.record({ sock: idx }) },
  { weight: 3, arbitrary: fc.record({ raw: fc.constantFrom<Num>(...RAW_FDS) }) },
);
/** For closeFd: never another object's fd (that would make the owner close a reused number later). */
const closableFdArb: fc.Arbitrary<FdRef> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ own: idx }) },
  { weight: 2, arbitrary: fc.record({ closed: idx }) },
  { weight: 3, arbitrary: fc.record({ raw: fc.constantFrom<Num>(...RAW_FDS) }) },
);

/** Paths: the data files (mapped, so never truncated), scratch files (anything goes), and bad ones. */
const PATHS = [
  "d0",
  "d1",
  "d2",
  "d3",
  "s0",
  "s1",
  "s2",
  "rel",
  "dir",
  "missing",
  "empty",
  "long",
  "nul",
  "devnull",
  "procmaps",
] as const;
type PathRef = typeof PATHS[number];
const pathArb = fc.constantFrom<PathRef>(...PATHS);
const mapPathArb = fc.constantFrom<PathRef>(
  "d0",
  "d1",
  "d2",
  "d3",
  "dir",
  "missing",
  "empty",
  "nul",
  "devnull",
  "procmaps",
);

// O_RDONLY, O_WRONLY, O_RDWR, O_CREAT|O_RDWR, O_CREAT|O_EXCL|O_WRONLY, O_DIRECTORY, O_TRUNC|O_RDWR,
// O_APPEND|O_WRONLY, O_NONBLOCK, O_PATH, all bits.
const OPEN_FLAGS = [0, 1, 2, 0o102, 0o301, 0o200000, 0o1002, 0o2001, 0o4000, 0o10000000, -1];
const O_TRUNC = 0o1000;
const O_CREAT = 0o100;

/** A buffer argument: its kind and size (bytes), or a mapping's view. */
type BufRef = {
  kind: "u8" | "dv" | "sub" | "u32" | "detached" | "resizable" | "shared" | "notview";
  size: number;
} | {
  map: number;
};
const BUF_SIZES = [0, 1, 7, 100, 4096, 5000, 65536];
const bufArb: fc.Arbitrary<BufRef> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({ kind: fc.constant("u8" as const), size: fc.constantFrom(...BUF_SIZES) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom(
        "dv" as const,
        "sub" as const,
        "u32" as const,
        "detached" as const,
        "resizable" as const,
        "shared" as const,
        "notview" as const,
      ),
      size: fc.constantFrom(...BUF_SIZES),
    }),
  },
  { weight: 2, arbitrary: fc.record({ map: idx }) },
);
const offArb = numArb(fc.constantFrom(0, 1, 4095, 4096, 5000, 2 ** 31, 2 ** 40, 2 ** 53 - 1), [-2, -1]);
const lenArb = fc.option(numArb(fc.constantFrom(0, 1, 100, 4096, 65536, 65537)), { nil: undefined });

/** Signals for ops that may legitimately wait (accept, recv, long timeouts): they end with ECANCELED. */
type SignalRef = "none" | "aborted" | "soon";
const signalArb = fc.constantFrom<SignalRef>("none", "none", "aborted", "soon");

const ringArbs = {
  ringNew: fc.record({
    t: fc.constant("ringNew"),
    entries: fc.option(
      numArb(fc.constantFrom(1, 2, 4, 8, 64, 256, 4096, 32768), [0, 3, 100, 65536, 2 ** 20]),
      {
        nil: undefined,
      },
    ),
    cq: fc.option(numArb(fc.constantFrom(8, 64, 512, 65536), [3, 131072]), { nil: undefined, freq: 4 }),
    sqpoll: fc.option(
      fc.record({
        idle: numArb(fc.constantFrom(0, 1, 10, 1000)),
        cpu: fc.option(numArb(fc.constantFrom(0, 1), [99, 4096]), { nil: undefined }),
      }),
      { nil: undefined, freq: 6 },
    ),
    single: fc.boolean(),
    coop: fc.boolean(),
    defer: fc.boolean(),
    busy: fc.boolean(),
  }),
  ringClose: fc.record({
    t: fc.constant("ringClose"),
    r: idx,
    timeout: fc.option(fc.constantFrom<Num>(0, 10, 200, -1, "NaN"), { nil: undefined }),
  }),
  nop: fc.record({ t: fc.constant("nop"), r: idx, n: fc.integer({ min: 1, max: 40 }), signal: signalArb }),
  read: fc.record({
    t: fc.constantFrom("read", "write"),
    r: idx,
    fd: fdArb,
    buf: bufArb,
    off: offArb,
    len: lenArb,
    bg: fc.boolean(),
    signal: signalArb,
  }),
  readv: fc.record({
    t: fc.constantFrom("readv", "writev"),
    r: idx,
    fd: fdArb,
    bufs: fc.array(bufArb, { maxLength: 4 }),
    off: offArb,
  }),
  openat: fc.record({
    t: fc.constant("openat"),
    r: idx,
    dir: fc.oneof(fc.constant("cwd" as const), fdArb),
    path: pathArb,
    flags: fc.constantFrom(...OPEN_FLAGS),
    mode: fc.option(fc.constantFrom<Num>(0o644, 0, 0o7777, -1, "NaN"), { nil: undefined }),
    how: fc.boolean(),
  }),
  closeFd: fc.record({ t: fc.constant("closeFd"), r: idx, fd: closableFdArb, libc: fc.boolean() }),
  statx: fc.record({
    t: fc.constant("statx"),
    r: idx,
    dir: fc.oneof(fc.constant("cwd" as const), fdArb),
    path: pathArb,
    flags: fc.constantFrom<Num>(0, 0x1000, /* AT_EMPTY_PATH */ 0x100, /* AT_SYMLINK_NOFOLLOW */ -1, "NaN"),
    mask: fc.option(fc.constantFrom<Num>(0xfff, 0, -1, 2 ** 32, "NaN"), { nil: undefined }),
  }),
  timeout: fc.record({
    t: fc.constant("timeout"),
    r: idx,
    ms: numArb(fc.constantFrom(0, 1, 5, 30, 10_000, 1e15), [1e300, -5, 2 ** 53]),
    count: fc.option(numArb(fc.constantFrom(0, 1, 3)), { nil: undefined }),
    abs: fc.boolean(),
    bg: fc.boolean(),
  }),
  fileOp: fc.record({
    t: fc.constantFrom("fsync", "fallocate", "fadvise", "pollAdd"),
    r: idx,
    fd: fdArb,
    off: offArb,
    // Small lengths only: fallocate really allocates blocks.
    len: numArb(fc.constantFrom(0, 1, 4096, 2 ** 20), [2 ** 53, 2 ** 63]),
    mode: fc.constantFrom<Num>(0, 1, 3, 0x10, 4, "NaN", 2 ** 32 + 1),
    signal: signalArb,
  }),
  pathOp: fc.record({
    t: fc.constantFrom("unlinkat", "mkdirat"),
    r: idx,
    dir: fc.oneof(fc.constant("cwd" as const), fdArb),
    path: pathArb,
    flags: fc.constantFrom<Num>(0, 0x200, /* AT_REMOVEDIR */ -1, "NaN"),
  }),
  splice: fc.record({
    t: fc.constantFrom("splice", "tee"),
    r: idx,
    a: fdArb,
    b: fdArb,
    offA: offArb,
    offB: offArb,
    len: numArb(fc.constantFrom(0, 1, 4096)),
  }),
  linked: fc.record({
    t: fc.constant("linked"),
    r: idx,
    fd: fdArb,
    ms: numArb(fc.constantFrom(0, 1, 50)),
    hard: fc.boolean(),
  }),
  batch: fc.record({
    t: fc.constant("batch"),
    r: idx,
    n: fc.integer({ min: 0, max: 300 }),
    userData: numArb(fc.constantFrom(0, 1, 2 ** 32 - 1)),
    wait: fc.boolean(),
  }),
  cancelFd: fc.record({ t: fc.constant("cancelFd"), r: idx, fd: fdArb }),
  registerFiles: fc.record({
    t: fc.constantFrom("registerFiles", "unregisterFiles"),
    r: idx,
    fds: fc.array(fdArb, { maxLength: 3 }),
  }),
  registerBuffers: fc.record({
    t: fc.constantFrom("registerBuffers", "unregisterBuffers"),
    r: idx,
    bufs: fc.array(bufArb, { maxLength: 3 }),
  }),
  readFixed: fc.record({
    t: fc.constant("readFixed"),
    r: idx,
    fd: fdArb,
    buf: bufArb,
    off: offArb,
  }),
  ringInfo: fc.record({ t: fc.constant("ringInfo"), r: idx }),
  ringMadvise: fc.record({
    t: fc.constant("ringMadvise"),
    r: idx,
    m: idx,
    advice: fc.constantFrom<Num>(0, 4, 14, 999, -1, "NaN"),
  }),
  pio: fc.record({
    t: fc.constantFrom("pread", "pwrite"),
    fd: fdArb,
    buf: bufArb,
    off: offArb,
    len: lenArb,
  }),
};

const PAGES = ["default", "transparent", "small", "2MB", "1GB", "4KB", "", "toString"];
const ADVICE = [...ADVICE_NAMES, "bogus", "", "__proto__", "constructor", "hasOwnProperty"];
const MAP_SIZES: number[] = [1, 100, 4095, 4096, 4097, 65536, 2 ** 21, 2 ** 21 + 1, 2 ** 22, 2 ** 30];

const memoryArbs = {
  mapMem: fc.record({
    t: fc.constant("mapMem"),
    size: numArb(fc.constantFrom(...MAP_SIZES), [
      0,
      -4096,
      2 ** 32 + 4096,
      2 ** 33,
      2 ** 40,
      2 ** 47,
      2 ** 47 + 4096,
    ]),
    pages: fc.option(fc.constantFrom(...PAGES), { nil: undefined }),
    populate: fc.boolean(),
    lock: fc.boolean(),
    shared: fc.boolean(),
    name: fc.option(fc.constantFrom("fuzz", "", "x".repeat(300), "a\0b"), { nil: undefined, freq: 4 }),
  }),
  mapFile: fc.record({
    t: fc.constant("mapFile"),
    path: mapPathArb,
    mode: fc.option(fc.constantFrom("r", "rw", "w", ""), { nil: undefined }),
    offset: fc.option(numArb(fc.constantFrom(0, 1, 99, 100, 4095, 4096, 5000, 70000)), { nil: undefined }),
    length: fc.option(numArb(fc.constantFrom(0, 1, 100, 4096, 5000, 1 << 20)), { nil: undefined }),
    shared: fc.option(fc.boolean(), { nil: undefined }),
    advice: fc.option(fc.constantFrom(...ADVICE), { nil: undefined, freq: 3 }),
  }),
  advise: fc.record({
    t: fc.constant("advise"),
    m: idx,
    advice: fc.array(fc.constantFrom(...ADVICE), { maxLength: 3 }),
  }),
  mapOp: fc.record({
    t: fc.constantFrom("mapClose", "bytes", "populate", "lock", "unlock", "residency", "sync", "mapInfo"),
    m: idx,
    wait: fc.boolean(),
  }),
  stale: fc.record({
    t: fc.constant("stale"),
    m: idx,
    at: numArb(fc.constantFrom(0, 1, 4095, 4096, 1 << 20)),
    write: fc.boolean(),
    wide: fc.boolean(),
  }),
};

const HOSTS = [
  "127.0.0.1",
  "::1",
  "0.0.0.0",
  "::",
  "",
  "localhost",
  "256.1.1.1",
  "1.2.3",
  "::ffff:127.0.0.1",
  "fe80::1",
  "1::2::3",
];
type PortRef = { l: number } | { raw: Num };
const portArb: fc.Arbitrary<PortRef> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ l: idx }) },
  { weight: 2, arbitrary: fc.record({ raw: fc.constantFrom<Num>(0, 1, 65535, 65536, -1, 1.5, "NaN") }) },
);

const socketArbs = {
  listen: fc.record({
    t: fc.constant("listen"),
    host: fc.option(fc.constantFrom(...HOSTS), { nil: undefined }),
    port: fc.option(fc.constantFrom<Num>(0, 0, 0, 65536, -1, 1.5, "NaN"), { nil: undefined }),
    backlog: fc.option(fc.constantFrom<Num>(0, 1, -1, 2 ** 31, "NaN"), { nil: undefined }),
    reusePort: fc.boolean(),
    ring: fc.option(idx, { nil: undefined }),
  }),
  connect: fc.record({
    t: fc.constant("connect"),
    // Loopback and unparsable only: a routable address could wait minutes for a SYN answer.
    host: fc.constantFrom("127.0.0.1", "127.0.0.1", "::1", "", "1.2.3", "fe80::1"),
    port: portArb,
    ring: fc.option(idx, { nil: undefined }),
    signal: signalArb,
    bg: fc.boolean(),
  }),
  accept: fc.record({ t: fc.constantFrom("accept", "serve", "listenerClose"), l: idx }),
  send: fc.record({
    t: fc.constantFrom("send", "sendv", "sendZc", "recv"),
    s: idx,
    buf: bufArb,
    big: fc.boolean(),
    bg: fc.boolean(),
  }),
  sockOp: fc.record({
    t: fc.constantFrom("sockClose", "shutdown", "noDelay"),
    s: idx,
    how: fc.constantFrom("write", "both", "bogus"),
  }),
};

const OBJECTS = ["fw", "drop", "missing", "notElf", "empty", "dir", "unbounded", "bytes"] as const;
const MAP_NAMES = ["blocklist_v4", "blocklist_v6", "stats", "nope", ".bss", ""];
const FLAGS = ["any", "noexist", "exist", "bogus", "toString", ""];
type KeyRef = { len: number } | { kind: "number" | "null" | "string" | "array" };
const KEY_LENS = [0, 1, 3, 4, 7, 8, 16, 20, 21, 64, 4096];
const keyArb: fc.Arbitrary<KeyRef> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ len: fc.constantFrom(...KEY_LENS) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom("number" as const, "null" as const, "string" as const, "array" as const),
    }),
  },
);
/** A BPF object of the sequence (0..7) or the child's shared ones (-1 the firewall, -2 the drop program). */
const objArb = fc.oneof({ weight: 2, arbitrary: idx }, { weight: 3, arbitrary: fc.constantFrom(-1, -2) });

const bpfArbs = {
  bpfOpen: fc.record({
    t: fc.constant("bpfOpen"),
    src: fc.constantFrom(...OBJECTS),
    load: fc.boolean(),
    pinRoot: fc.option(fc.constantFrom("bpffs", "tmp", "proc", ""), { nil: undefined, freq: 6 }),
    name: fc.option(fc.constantFrom("x", "", "n".repeat(100)), { nil: undefined, freq: 6 }),
    logSize: fc.option(fc.constantFrom<Num>(0, 1, 100, -1, "NaN"), { nil: undefined, freq: 6 }),
  }),
  bpfObjOp: fc.record({ t: fc.constantFrom("bpfLoad", "bpfClose", "bpfPrograms"), o: idx }),
  bpfMap: fc.record({
    t: fc.constant("bpfMap"),
    o: objArb,
    name: fc.constantFrom(...MAP_NAMES),
    codec: fc.constantFrom("bytes", "bytes", "bytes", "u32", "u64"),
  }),
  mapKey: fc.record({ t: fc.constantFrom("mapGet", "mapHas", "mapDelete"), bm: idx, key: keyArb }),
  mapSet: fc.record({
    t: fc.constant("mapSet"),
    bm: idx,
    key: keyArb,
    val: keyArb,
    flag: fc.constantFrom(...FLAGS),
  }),
  mapBulk: fc.record({
    t: fc.constantFrom("mapKeys", "mapReadAll", "mapSetAll", "mapDeleteAll", "mapClose2", "mapPin"),
    bm: idx,
    n: fc.integer({ min: 0, max: 20 }),
    chunk: fc.option(numArb(fc.constantFrom(1, 2, 256)), { nil: undefined }),
    key: keyArb,
    val: keyArb,
    flag: fc.constantFrom(...FLAGS),
  }),
  mapOpen: fc.record({
    t: fc.constantFrom("mapFromId", "mapFromName", "mapOpenPinned"),
    id: numArb(fc.constantFrom(0, 1, 2 ** 31 - 1)),
    name: fc.constantFrom(...MAP_NAMES, "kkfz_none"),
  }),
  progRun: fc.record({
    t: fc.constant("progRun"),
    o: objArb,
    name: fc.constantFrom("kk_firewall", "kk_drop", "nope"),
    size: fc.constantFrom(0, 1, 13, 14, 34, 60, 1500, 5000),
    repeat: fc.option(fc.constantFrom<Num>(0, 1, 10, 1000, -1, 1.5, "NaN", 2 ** 32, 2 ** 32 + 1), {
      nil: undefined,
    }),
    out: fc.option(fc.constantFrom<Num>(0, 1, 60, 10000, -1, 1.5, "NaN"), { nil: undefined }),
  }),
};

const IFNAMES = ["veth", "veth", "veth", "missing", "empty", "long", "slash", "space", "nul"] as const;
type IfRef = typeof IFNAMES[number];
const ifArb = fc.constantFrom<IfRef>(...IFNAMES);

const xdpArbs = {
  xdpAttach: fc.record({
    t: fc.constant("xdpAttach"),
    o: objArb,
    name: fc.constantFrom("kk_firewall", "kk_drop", "kk_drop", "nope"),
    ifname: ifArb,
    mode: fc.option(fc.constantFrom("native", "generic", "auto", "offload", "bogus"), { nil: undefined }),
    replace: fc.boolean(),
    persist: fc.constantFrom("no", "no", "no", "yes", "path", "badpath"),
  }),
  xdpLinkOp: fc.record({
    t: fc.constantFrom("xdpDetach", "xdpClose", "xdpUpdate", "xdpPin", "xdpFd", "xdpOpenPinned"),
    k: idx,
    o: objArb,
  }),
  xdpQuery: fc.record({ t: fc.constant("xdpQuery"), ifname: ifArb }),
  firewall: fc.record({
    t: fc.constant("fwAttach"),
    ifname: ifArb,
    mode: fc.option(fc.constantFrom("native", "generic", "auto", "bogus"), { nil: undefined }),
    replace: fc.boolean(),
  }),
  fwOp: fc.record({
    t: fc.constantFrom("fwBlock", "fwUnblock", "fwList", "fwStats", "fwClose", "fwDetach"),
    f: idx,
    cidr: fc.constantFrom(
      "198.51.100.0/24",
      "203.0.113.7",
      "2001:db8::/32",
      "10.0.0.0/33",
      "::/0",
      "0.0.0.0/0",
      "",
      "x/y",
      "1.2.3.4/-1",
    ),
  }),
};

type WA = fc.WeightedArbitrary<Action>;
const w = (weight: number, arbitrary: fc.Arbitrary<Action>): WA => ({ weight, arbitrary });

/** One random action, weighted so that every area gets calls and the slow ones (BPF loads, XDP attach) stay rare. */
export function actionArb(options: { xdp: boolean }): fc.Arbitrary<Action> {
  const r = ringArbs;
  const m = memoryArbs;
  const s = socketArbs;
  const b = bpfArbs;
  const x = xdpArbs;
  const list: WA[] = [
    w(10, r.ringNew),
    w(4, r.ringClose),
    w(6, r.nop),
    w(16, r.read),
    w(4, r.readv),
    w(10, r.openat),
    w(6, r.closeFd),
    w(5, r.statx),
    w(5, r.timeout),
    w(6, r.fileOp),
    w(3, r.pathOp),
    w(2, r.splice),
    w(2, r.linked),
    w(3, r.batch),
    w(2, r.cancelFd),
    w(2, r.registerFiles),
    w(2, r.registerBuffers),
    w(2, r.readFixed),
    w(2, r.ringInfo),
    w(2, r.ringMadvise),
    w(4, r.pio),
    w(8, m.mapMem),
    w(6, m.mapFile),
    w(6, m.advise),
    w(8, m.mapOp),
    w(10, m.stale),
    w(5, s.listen),
    w(6, s.connect),
    w(4, s.accept),
    w(6, s.send),
    w(4, s.sockOp),
    w(1, b.bpfOpen),
    w(2, b.bpfObjOp),
    w(5, b.bpfMap),
    w(10, b.mapKey),
    w(8, b.mapSet),
    w(4, b.mapBulk),
    w(1, b.mapOpen),
    w(3, b.progRun),
    w(3, x.xdpQuery),
  ];
  if (options.xdp) {
    list.push(w(2, x.xdpAttach), w(3, x.xdpLinkOp), w(1, x.firewall), w(3, x.fwOp));
  }
  return fc.oneof(...list);
}

/** A sequence of actions: what one fast-check run interprets. */
export function sequenceArb(options: { xdp: boolean; maxLength: number }): fc.Arbitrary<Action[]> {
  return fc.array(actionArb(options), { minLength: 1, maxLength: options.maxLength, size: "max" });
}

// ---------------------------------------------------------------------------
// Counting

/** Calls and their outcomes in one area. */
export interface AreaStats {
  /** Calls made. */
  calls: number;
  /** Calls that succeeded. */
  ok: number;
  /** KernelErrors by code. */
  kernel: Record<string, number>;
  /** TypeErrors. */
  type: number;
  /** Which calls threw TypeErrors, with the first message of each: what the summary shows. */
  typeErrors: Record<string, string>;
}

/** What the fuzzer did, for the summary line. */
export interface Stats {
  /** Calls made in all. */
  calls: number;
  /** Sequences run. */
  sequences: number;
  /** Per area. */
  areas: Record<Area, AreaStats>;
}

/** Empty counters. */
export function newStats(): Stats {
  const areas = {} as Record<Area, AreaStats>;
  for (const a of AREAS) areas[a] = { calls: 0, ok: 0, kernel: {}, type: 0, typeErrors: {} };
  return { calls: 0, sequences: 0, areas };
}

/** A broken invariant: which step, which call, and what happened. */
export class Violation extends Error {
  /** The step's index in the sequence. */
  readonly step: number;
  /** The call that broke it. */
  readonly call: string;
  /** Builds one. */
  constructor(step: number, call: string, what: string) {
    super(`step ${step}, ${call}: ${what}`);
    this.name = "Violation";
    this.step = step;
    this.call = call;
  }
}

/** What one call ended with: "ok", a KernelError code ("EBADF"), or "TypeError". */
export type Outcome = string;

/** The outcome of each call of a sequence, for the regression cases' expectations. */
export interface CallRecord {
  /** Step index. */
  readonly step: number;
  /** The call's label ("ring.read"). */
  readonly call: string;
  /** What it ended with. */
  readonly outcome: Outcome;
}

// ---------------------------------------------------------------------------
// The environment of a child

/** What the child sets up once and every sequence shares. */
export interface Env {
  /** The child's temp dir (its cwd): data files, scratch files. */
  readonly dir: string;
  /** The repository root, for the BPF objects. */
  readonly repo: string;
  /** The veth the test made for XDP, or undefined: XDP actions then use a name that doesn't exist. */
  readonly ifname: string | undefined;
  /** A bpffs directory this child may pin in (the parent removes it). */
  readonly pinDir: string;
  /** How long a call may take before it counts as a hang. */
  readonly stepTimeoutMs: number;
  /** Objects loaded once per child and never closed by actions. */
  shared?: { fw: BpfObject | null; drop: BpfObject | null };
}

const DATA_SIZES = [0, 100, 5000, 70000];

/** Resets the data and scratch files before a sequence (no mapping of them is open then). */
function resetFiles(env: Env): void {
  for (let i = 0; i < DATA_SIZES.length; i++) {
    const bytes = new Uint8Array(DATA_SIZES[i]);
    for (let j = 0; j < bytes.length; j++) bytes[j] = (j * 7 + i) & 0xff;
    writeFileSync(join(env.dir, `d${i}`), bytes);
  }
  rmSync(join(env.dir, "scratch"), { recursive: true, force: true });
  mkdirSync(join(env.dir, "scratch"));
  rmSync(join(env.dir, "r0"), { recursive: true, force: true });
}

function pathOf(env: Env, p: PathRef): string {
  switch (p) {
    case "d0":
    case "d1":
    case "d2":
    case "d3":
      return join(env.dir, p);
    case "s0":
    case "s1":
    case "s2":
      return join(env.dir, "scratch", p);
    case "rel":
      return "r0"; // relative to the cwd (the temp dir) or to a dir fd
    case "dir":
      return join(env.dir, "scratch");
    case "missing":
      return join(env.dir, "no", "such", "file");
    case "empty":
      return "";
    case "long":
      return join(env.dir, "x".repeat(5000));
    case "nul":
      return `${join(env.dir, "d1")}\0.txt`;
    case "devnull":
      return "/dev/null";
    case "procmaps":
      return "/proc/self/maps";
  }
}

/** Flags the fuzzer may open a path with: data files are never truncated, files outside the temp dir never written. */
function safeFlags(p: PathRef, flags: number): number {
  if (p === "devnull" || p === "procmaps") return flags & (0o200000 | 0o4000 | 0o10000000 | 0o2000000);
  if (p === "d0" || p === "d1" || p === "d2" || p === "d3" || p === "nul") return flags & ~O_TRUNC;
  if (p === "missing") return flags & ~O_CREAT;
  return flags;
}

const scratchLike = (p: PathRef) =>
  p === "s0" || p === "s1" || p === "s2" || p === "rel" || p === "missing" || p === "empty" ||
  p === "long" || p === "nul";

function ifnameOf(env: Env, r: IfRef): string {
  switch (r) {
    case "veth":
      return env.ifname ?? "kkfz-absent0";
    case "missing":
      return "kkfz-nope0";
    case "empty":
      return "";
    case "long":
      return "k".repeat(40);
    case "slash":
      return "kk/x";
    case "space":
      return "kk x";
    case "nul":
      return "kkfz\0x";
  }
}

function fdOpenNow(fd: number): boolean {
  return existsSync(`/proc/self/fd/${fd}`);
}

/** An fd number that is surely not open: stands in for a closed fd whose number was reused since. */
function unusedFd(): number {
  for (let fd = 15_000; fd < 15_100; fd++) if (!fdOpenNow(fd)) return fd;
  return -1;
}

// ---------------------------------------------------------------------------
// The interpreter

interface MapEntry {
  readonly m: Mapping;
  readonly size: number;
  /** `bytes` taken while open: the stale view once closed. */
  view: Uint8Array | undefined;
  /** A wider view over the same memory. */
  wide: Float64Array | undefined;
  /** Written through the stale view after close: it no longer reads zeros. */
  dirty: boolean;
}

const HANG = Symbol("hang");
const SKIP = Symbol("skip");

/** Options of a call. */
interface CallOptions {
  /** Why the call must not succeed (an fd that is not an fd, a path with a NUL). */
  readonly mustFail?: string;
  /** The KernelError code the call must fail with (EBADF on a closed object). */
  readonly expect?: string;
  /** Don't await the promise: it is checked when it settles, and awaited at the end of the sequence. */
  readonly background?: boolean;
}

class Sequence {
  readonly env: Env;
  readonly stats: Stats;
  readonly records: CallRecord[] | undefined;
  step = 0;
  violation: Violation | undefined;
  readonly rings: Ring[] = [];
  /** fds this sequence opened and still owns (files and dirs from openat). */
  readonly fds: number[] = [];
  /** fds this sequence closed. */
  readonly closedFds: number[] = [];
  readonly maps: MapEntry[] = [];
  readonly listeners: TcpListener[] = [];
  readonly closedPorts: number[] = [];
  readonly sockets: TcpSocket[] = [];
  readonly objects: BpfObject[] = [];
  readonly bpfMaps: BpfMap[] = [];
  readonly ownedMaps: BpfMap[] = [];
  readonly links: XdpLink[] = [];
  readonly pins = new Set<string>();
  readonly firewalls: XdpFirewall[] = [];
  readonly background: Promise<void>[] = [];
  pinCount = 0;

  constructor(env: Env, stats: Stats, records: CallRecord[] | undefined) {
    this.env = env;
    this.stats = stats;
    this.records = records;
  }

  fail(call: string, what: string): never {
    const v = new Violation(this.step, call, what);
    this.violation ??= v;
    throw v;
  }

  /** Runs one API call under the invariant; returns its value, or undefined when it threw as allowed. */
  async call<T>(
    area: Area,
    label: string,
    fn: () => T | Promise<T>,
    o: CallOptions = {},
  ): Promise<T | undefined> {
    this.stats.calls++;
    const a = this.stats.areas[area];
    a.calls++;
    const step = this.step;
    let result: unknown;
    try {
      result = fn();
    } catch (e) {
      this.#settled(area, label, step, false, e, o);
      return undefined;
    }
    if (!(result instanceof Promise)) {
      this.#settled(area, label, step, true, result, o);
      return result as T;
    }
    const promise = result as Promise<T>;
    if (o.background) {
      this.background.push(
        promise.then(
          (v) => void this.#settledLate(area, label, step, true, v, o),
          (e) => void this.#settledLate(area, label, step, false, e, o),
        ),
      );
      return undefined;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<typeof HANG>((resolve) => {
      timer = setTimeout(() => resolve(HANG), this.env.stepTimeoutMs);
    });
    try {
      const v = await Promise.race([promise, limit]);
      if (v === HANG) this.fail(label, `did not settle within ${this.env.stepTimeoutMs} ms (a hang)`);
      this.#settled(area, label, step, true, v, o);
      return v as T;
    } catch (e) {
      if (e instanceof Violation) throw e;
      this.#settled(area, label, step, false, e, o);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  #settledLate(area: Area, label: string, step: number, ok: boolean, value: unknown, o: CallOptions): void {
    try {
      this.#settled(area, label, step, ok, value, o);
    } catch {
      // recorded in this.violation
    }
  }

  #settled(area: Area, label: string, step: number, ok: boolean, value: unknown, o: CallOptions): void {
    const a = this.stats.areas[area];
    let outcome: Outcome;
    if (ok) {
      a.ok++;
      outcome = "ok";
    } else if (value instanceof KernelError) {
      a.kernel[value.code] = (a.kernel[value.code] ?? 0) + 1;
      outcome = value.code;
      // The hint of EFAULT says it: a bad buffer address reached the kernel, which is kernelkit's bug.
      if (value.code === "EFAULT") {
        this.#fail(step, label, `the kernel saw a bad address (EFAULT): ${value.message}`);
      }
      if (
        !/^E[A-Z0-9]+$/.test(value.code) || typeof value.syscall !== "string" || value.syscall.length === 0
      ) {
        this.#fail(step, label, `a KernelError without a proper code or syscall: ${value.message}`);
      }
    } else if (value instanceof TypeError) {
      a.type++;
      outcome = "TypeError";
      a.typeErrors[label] ??= value.message.slice(0, 160);
      // A TypeError of the FFI layer is not about JS types: a number the FFI refused reached it unchecked.
      if (/\bFFI\b|bun:ffi/i.test(value.message)) {
        this.#fail(step, label, `the FFI layer refused an argument: ${value.message}`);
      }
    } else {
      const e = value as { name?: string; message?: string; stack?: string };
      const what = value instanceof Error
        ? `${e.name}: ${e.message}`
        : `a thrown ${typeof value}: ${String(value)}`;
      this.#fail(step, label, `threw ${what}, not a KernelError or TypeError\n${e?.stack ?? ""}`);
    }
    this.records?.push({ step, call: label, outcome });
    if (o.mustFail && outcome === "ok") this.#fail(step, label, `succeeded, but ${o.mustFail}`);
    if (o.expect && outcome !== o.expect) {
      this.#fail(step, label, `ended with ${outcome}, expected KernelError ${o.expect}`);
    }
  }

  #fail(step: number, label: string, what: string): never {
    const v = new Violation(step, label, what);
    this.violation ??= v;
    throw v;
  }

  // Resolving references -----------------------------------------------------

  pick<T>(list: readonly T[], i: number): T | typeof SKIP {
    return list.length === 0 ? SKIP : list[i % list.length];
  }

  fd(ref: FdRef): { fd: number; bad?: string } {
    if ("own" in ref) {
      if (this.fds.length === 0) return { fd: -1 };
      return { fd: this.fds[ref.own % this.fds.length] };
    }
    if ("closed" in ref) {
      if (this.closedFds.length === 0) return { fd: unusedFd() };
      const fd = this.closedFds[ref.closed % this.closedFds.length];
      // The number may have been reused (by a ring, an eventfd, a socket): then one surely closed stands in.
      return { fd: fdOpenNow(fd) ? unusedFd() : fd };
    }
    if ("sock" in ref) {
      const s = this.pick(this.sockets, ref.sock);
      if (s === SKIP) return { fd: unusedFd() };
      return { fd: s.closed ? unusedFd() : s.fd };
    }
    const fd = num(ref.raw);
    return { fd, bad: int32(fd) ? undefined : `fd ${String(ref.raw)} is not an int32` };
  }

  buffer(ref: BufRef): ArrayBufferView | undefined {
    if ("map" in ref) {
      const e = this.pick(this.maps, ref.map);
      return e === SKIP ? new Uint8Array(16) : e.view ?? new Uint8Array(16);
    }
    const n = ref.size;
    switch (ref.kind) {
      case "u8":
        return new Uint8Array(n);
      case "dv":
        return new DataView(new ArrayBuffer(n));
      case "sub":
        return new Uint8Array(n + 3).subarray(3);
      case "u32":
        return new Uint32Array(Math.ceil(n / 4));
      case "detached": {
        const b = new ArrayBuffer(n);
        const v = new Uint8Array(b);
        (b as ArrayBuffer & { transfer(): ArrayBuffer }).transfer();
        return v;
      }
      case "resizable":
        return new Uint8Array(
          new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(n, {
            maxByteLength: n + 4096,
          }),
        );
      case "shared":
        return new Uint8Array(new SharedArrayBuffer(n));
      case "notview":
        return { byteLength: n } as unknown as ArrayBufferView;
    }
  }

  ring(i: number): Ring | typeof SKIP {
    return this.pick(this.rings, i);
  }

  signal(s: SignalRef | undefined): AbortSignal | undefined {
    if (s === "aborted") return AbortSignal.abort();
    if (s === "soon") return AbortSignal.timeout(30);
    return undefined;
  }

  /** An op on a closed ring must fail with EBADF. */
  ringExpect(r: Ring): string | undefined {
    return r.closed ? "EBADF" : undefined;
  }

  // Cleanup --------------------------------------------------------------------

  async cleanup(): Promise<void> {
    const s = this.step;
    this.step = -1; // cleanup calls are reported as step -1
    const quiet = async <T>(area: Area, label: string, fn: () => T | Promise<T>) => {
      try {
        await this.call(area, label, fn);
      } catch {
        // recorded in this.violation; keep cleaning
      }
    };
    for (const f of this.firewalls) await quiet("xdp", "cleanup XdpFirewall.close", () => f.close());
    for (const l of this.links) {
      if (l.pinnedAt) {
        let fd: number | undefined;
        try {
          fd = l.fd;
        } catch {
          fd = undefined;
        }
        if (fd !== undefined) await quiet("xdp", "cleanup XdpLink.detach", () => l.detach());
      }
      await quiet("xdp", "cleanup XdpLink.close", () => l.close());
    }
    for (const p of this.pins) {
      if (!existsSync(p)) continue;
      await quiet("xdp", "cleanup XdpLink.openPinned+detach", () => XdpLink.openPinned(p).detach());
      rmSync(p, { force: true });
    }
    for (const m of this.ownedMaps) await quiet("bpf", "cleanup BpfMap.close", () => m.close());
    for (const o of this.objects) await quiet("bpf", "cleanup BpfObject.close", () => o.close());
    for (const so of this.sockets) await quiet("socket", "cleanup TcpSocket.close", () => so.close());
    for (const l of this.listeners) await quiet("socket", "cleanup TcpListener.close", () => l.close());
    for (const r of this.rings) await quiet("ring", "cleanup Ring.close", () => r.close());
    for (const e of this.maps) await quiet("memory", "cleanup Mapping.close", () => e.m.close());
    for (const fd of this.fds) await quiet("ring", "cleanup closeFd", () => closeFd(fd));
    this.fds.length = 0;
    // Everything started in the background settles once its objects are closed.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const all = Promise.all(this.background).then(() => "done" as const);
    const limit = new Promise<"hang">((resolve) => {
      timer = setTimeout(() => resolve("hang"), this.env.stepTimeoutMs + 1000);
    });
    const r = await Promise.race([all, limit]);
    clearTimeout(timer);
    if (r === "hang") {
      this.violation ??= new Violation(
        -1,
        "background ops",
        "an op started in the background never settled, even after its ring and sockets were closed",
      );
    }
    for (const p of this.pinRoots) rmSync(p, { recursive: true, force: true });
    this.step = s;
  }

  /** bpffs and other dirs this sequence pinned in: removed in cleanup. */
  readonly pinRoots: string[] = [];
  /** Listeners closed by an action (closed again in cleanup: a second close is harmless). */
  readonly listenersClosed: TcpListener[] = [];

  /** True once the map, or the object it belongs to, was closed. */
  mapClosed(m: BpfMap): boolean {
    try {
      void m.fd;
      return false;
    } catch {
      return true;
    }
  }
}

// ---------------------------------------------------------------------------
// The actions

function keyOf(ref: KeyRef): unknown {
  if ("len" in ref) {
    const k = new Uint8Array(ref.len);
    for (let i = 0; i < k.length; i++) k[i] = i * 13;
    return k;
  }
  switch (ref.kind) {
    case "number":
      return 5;
    case "null":
      return null;
    case "string":
      return "key";
    case "array":
      return [1, 2, 3, 4];
  }
}

function bpfSource(env: Env, src: typeof OBJECTS[number]): string | Uint8Array {
  switch (src) {
    case "fw":
      return join(env.repo, "bpf/xdp_firewall.bpf.o");
    case "drop":
      return join(env.repo, "bpf/xdp_drop.bpf.o");
    case "missing":
      return join(env.dir, "none.bpf.o");
    case "notElf":
      return join(env.dir, "d2");
    case "empty":
      return join(env.dir, "d0");
    case "dir":
      return env.dir;
    case "unbounded":
      return join(env.repo, "tests/fixtures/xdp_unbounded.bpf.o");
    case "bytes":
      return readFileSync(join(env.repo, "bpf/xdp_drop.bpf.o"));
  }
}

/** The child's shared objects, loaded on first use (and never closed by an action). */
function sharedObject(q: Sequence, which: number): BpfObject | undefined {
  const env = q.env;
  env.shared ??= { fw: null, drop: null };
  const key = which === -1 ? "fw" : "drop";
  if (env.shared[key] === null) {
    try {
      env.shared[key] = BpfObject.open(
        join(env.repo, key === "fw" ? "bpf/xdp_firewall.bpf.o" : "bpf/xdp_drop.bpf.o"),
      ).load();
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
      env.shared[key] = undefined as unknown as null; // not loadable here (no CAP_BPF): stays missing
    }
  }
  return env.shared[key] ?? undefined;
}

function objectOf(q: Sequence, o: number): BpfObject | undefined | typeof SKIP {
  if (o < 0) return sharedObject(q, o);
  return q.pick(q.objects, o);
}

/** Runs one action. */
async function step(q: Sequence, a: Action): Promise<void> {
  const env = q.env;
  switch (a.t) {
    // -- io_uring ------------------------------------------------------------
    case "ringNew": {
      const opts = {
        entries: numOr(a.entries),
        cqEntries: numOr(a.cq),
        sqpoll: a.sqpoll ? { idleMs: num(a.sqpoll.idle), cpu: numOr(a.sqpoll.cpu) } : undefined,
        singleIssuer: a.single,
        coopTaskrun: a.coop,
        deferTaskrun: a.defer,
        poll: a.busy ? "busy" as const : undefined,
      };
      const r = await q.call("ring", "new Ring", () => new Ring(opts));
      if (r) q.rings.push(r);
      return;
    }
    case "ringClose": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      await q.call("ring", "Ring.close", () => r.close(numOr(a.timeout)));
      return;
    }
    case "nop": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const expect = q.ringExpect(r);
      const signal = q.signal(a.signal);
      // n NOPs in one JS turn (one io_uring_enter): all but the last are checked as they settle.
      for (let i = 0; i < a.n; i++) {
        await q.call("ring", "Ring.nop", () => r.nop({ signal }), {
          expect: signal?.aborted && !expect ? "ECANCELED" : expect,
          background: i < a.n - 1,
        });
      }
      return;
    }
    case "read":
    case "write": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const { fd, bad } = q.fd(a.fd);
      const buf = q.buffer(a.buf);
      const off = num(a.off);
      const len = numOr(a.len);
      const signal = q.signal(a.signal);
      await q.call("ring", `Ring.${a.t}`, () => r[a.t as "read" | "write"](fd, buf!, off, len, { signal }), {
        mustFail: bad,
        expect: q.ringExpect(r),
        background: a.bg,
      });
      return;
    }
    case "readv":
    case "writev": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const { fd, bad } = q.fd(a.fd);
      const bufs = (a.bufs as BufRef[]).map((b) => q.buffer(b)!);
      await q.call("ring", `Ring.${a.t}`, () => r[a.t as "readv" | "writev"](fd, bufs, num(a.off)), {
        mustFail: bad,
        expect: q.ringExpect(r),
      });
      return;
    }
    case "openat": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const p = a.path as PathRef;
      const dir = a.dir === "cwd" ? { fd: CWD } : q.fd(a.dir);
      const path = pathOf(env, p);
      const flags = safeFlags(p, a.flags) | 0o2000000; // O_CLOEXEC
      const mode = numOr(a.mode);
      // A relative path with a dir fd stays inside the temp dir only when the dir fd is one of ours.
      if (a.dir !== "cwd" && !path.startsWith("/") && !("own" in a.dir) && (flags & (O_CREAT | 3)) !== 0) {
        return;
      }
      const mustFail = dir.bad ?? (path.includes("\0") ? "the path has a NUL byte" : undefined);
      const fd = await q.call(
        "ring",
        a.how ? "Ring.openat2" : "Ring.openat",
        () => a.how ? r.openat2(dir.fd, path, { flags, mode }) : r.openat(dir.fd, path, flags, mode),
        { mustFail, expect: q.ringExpect(r) },
      );
      if (typeof fd === "number") q.fds.push(fd);
      return;
    }
    case "closeFd": {
      const { fd, bad } = q.fd(a.fd);
      const own = q.fds.indexOf(fd);
      // Only fds of ours, and numbers that are surely not open, may be closed.
      if (own < 0 && int32(fd) && fd >= 0 && fd < 15_000 && fdOpenNow(fd)) return;
      const r = q.ring(a.r);
      let closed: unknown;
      if (a.libc || r === SKIP) {
        closed = await q.call("ring", "closeFd", () => (closeFd(fd), true), { mustFail: bad });
      } else {
        closed = await q.call("ring", "Ring.closeFd", () => r.closeFd(fd), {
          mustFail: bad,
          expect: q.ringExpect(r),
        });
      }
      if (closed !== undefined && own >= 0) {
        q.fds.splice(own, 1);
        q.closedFds.push(fd);
      }
      return;
    }
    case "statx": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const dir = a.dir === "cwd" ? { fd: CWD } : q.fd(a.dir);
      const path = pathOf(env, a.path);
      const mustFail = dir.bad && !(path.startsWith("/"))
        ? dir.bad
        : path.includes("\0")
        ? "the path has a NUL byte"
        : undefined;
      await q.call("ring", "Ring.statx", () => r.statx(dir.fd, path, num(a.flags), numOr(a.mask)), {
        mustFail,
        expect: q.ringExpect(r),
      });
      return;
    }
    case "timeout": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const ms = num(a.ms);
      // Timeouts that could wait long (or forever, absolute ones) get a signal: they end with ECANCELED.
      const signal = a.abs || !(ms <= 50) ? AbortSignal.timeout(40) : undefined;
      await q.call(
        "ring",
        "Ring.timeout",
        () => r.timeout(ms, { count: numOr(a.count), absolute: a.abs, signal }),
        {
          expect: q.ringExpect(r),
          background: a.bg,
        },
      );
      return;
    }
    case "fsync":
    case "fallocate":
    case "fadvise":
    case "pollAdd": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const { fd, bad } = q.fd(a.fd);
      const off = num(a.off);
      const len = num(a.len);
      const mode = num(a.mode);
      const signal = a.t === "pollAdd" ? AbortSignal.timeout(40) : q.signal(a.signal);
      const run = (): Promise<number> => {
        switch (a.t) {
          case "fsync":
            return r.fsync(fd, { datasync: mode === 1, signal });
          case "fallocate":
            // Never more than a MiB of real blocks, never a mode that shrinks a (mapped) file.
            return r.fallocate(
              fd,
              [0, 1, 3, 0x10].includes(mode) ? mode : 1,
              off,
              len <= 2 ** 20 ? len : 2 ** 53,
              { signal },
            );
          case "fadvise":
            return r.fadvise(fd, off, len, mode, { signal });
          default:
            return r.pollAdd(fd, mode, { signal });
        }
      };
      await q.call("ring", `Ring.${a.t}`, run, { mustFail: bad, expect: q.ringExpect(r) });
      return;
    }
    case "unlinkat":
    case "mkdirat": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const p = a.path as PathRef;
      if (!scratchLike(p) || p === "rel" && a.dir !== "cwd" && !("own" in a.dir)) return;
      const dir = a.dir === "cwd" ? { fd: CWD } : q.fd(a.dir);
      const path = pathOf(env, p);
      const mustFail = path.includes("\0")
        ? "the path has a NUL byte"
        : !path.startsWith("/")
        ? dir.bad
        : undefined;
      await q.call(
        "ring",
        `Ring.${a.t}`,
        () =>
          a.t === "unlinkat"
            ? r.unlinkat(dir.fd, path, num(a.flags))
            : r.mkdirat(dir.fd, path, num(a.flags) & 0o777),
        { mustFail, expect: q.ringExpect(r) },
      );
      return;
    }
    case "splice":
    case "tee": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const x = q.fd(a.a);
      const y = q.fd(a.b);
      const signal = AbortSignal.timeout(40);
      await q.call(
        "ring",
        `Ring.${a.t}`,
        () =>
          a.t === "splice"
            ? r.splice(x.fd, num(a.offA), y.fd, num(a.offB), num(a.len), 0, { signal })
            : r.tee(x.fd, y.fd, num(a.len), 0, { signal }),
        { mustFail: x.bad ?? y.bad, expect: q.ringExpect(r) },
      );
      return;
    }
    case "linked": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const { fd, bad } = q.fd(a.fd);
      const buf = new Uint8Array(64);
      const expect = q.ringExpect(r);
      const both: Promise<unknown>[] = [];
      await q.call("ring", "Ring.read (linked)", () => {
        const p = r.read(fd, buf, 0, 64, { link: a.hard ? "hard" : "soft" });
        p.catch(() => {}); // handled below, after the timeout was queued
        both.push(p);
        return 0;
      });
      await q.call("ring", "Ring.linkTimeout", () => r.linkTimeout(num(a.ms)), { expect });
      await q.call("ring", "Ring.read (linked) result", () => both[0] ?? 0, { mustFail: bad, expect });
      return;
    }
    case "batch": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const expect = q.ringExpect(r);
      let queued = 0;
      const data = num(a.userData);
      const validData = Number.isInteger(data) && data >= 0 && data <= 0xffff_ffff;
      for (let i = 0; i < a.n; i++) {
        const ok = await q.call("ring", "Ring.prep.nop", () => (r.prep.nop(data), true), {
          expect: validData || r.closed ? expect : "EINVAL",
        });
        if (ok) queued++;
      }
      if (a.wait && queued > 0 && queued <= r.sqEntries && !r.closed) {
        await q.call("ring", "Ring.submitAndWait", () => r.submitAndWait(queued), { expect });
      } else {
        await q.call("ring", "Ring.submit", () => r.submit(), { expect });
      }
      await q.call("ring", "Ring.completions", () => r.completions().length, { expect });
      return;
    }
    case "cancelFd": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const { fd, bad } = q.fd(a.fd);
      await q.call("ring", "Ring.cancelFd", () => r.cancelFd(fd), { mustFail: r.closed ? undefined : bad });
      return;
    }
    case "registerFiles":
    case "unregisterFiles": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const fds = (a.fds as FdRef[]).map((f) => q.fd(f).fd);
      await q.call(
        "ring",
        `Ring.${a.t}`,
        () => a.t === "registerFiles" ? r.registerFiles(fds) : r.unregisterFiles(),
        { expect: q.ringExpect(r) },
      );
      return;
    }
    case "registerBuffers":
    case "unregisterBuffers": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const bufs = (a.bufs as BufRef[]).map((b) => q.buffer(b)!);
      await q.call(
        "ring",
        `Ring.${a.t}`,
        () => a.t === "registerBuffers" ? r.registerBuffers(bufs) : r.unregisterBuffers(),
        { expect: q.ringExpect(r) },
      );
      return;
    }
    case "readFixed": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const { fd, bad } = q.fd(a.fd);
      const buf = q.buffer(a.buf)!;
      await q.call("ring", "Ring.readFixed", () => r.readFixed(fd, buf, num(a.off)), {
        mustFail: bad,
        expect: q.ringExpect(r),
      });
      return;
    }
    case "ringInfo": {
      const r = q.ring(a.r);
      if (r === SKIP) return;
      const expect = q.ringExpect(r);
      await q.call("ring", "Ring.probe", () => r.probe().length, { expect });
      await q.call("ring", "Ring.cqReady", () => r.cqReady(), { expect });
      await q.call("ring", "Ring.pending", () => r.pending);
      return;
    }
    case "ringMadvise": {
      const r = q.ring(a.r);
      const e = q.pick(q.maps, a.m);
      if (r === SKIP || e === SKIP || !e.view) return;
      // The whole view: never more advice than the fuzzer's memory budget allows.
      const advice = num(a.advice);
      if (e.size > 64 << 20 && ![4, 14].includes(advice)) return;
      await q.call("ring", "Ring.madvise", () => r.madvise(e.view!, advice), { expect: q.ringExpect(r) });
      return;
    }
    case "pread":
    case "pwrite": {
      const { fd, bad } = q.fd(a.fd);
      // Blocking libc calls: on files only (a socket would block the thread for good).
      if (q.sockets.some((s) => s.fd === fd)) return;
      const buf = q.buffer(a.buf)!;
      const len = numOr(a.len);
      await q.call(
        "ring",
        a.t,
        () => a.t === "pread" ? pread(fd, buf, num(a.off), len) : pwrite(fd, buf, num(a.off), len),
        { mustFail: bad },
      );
      return;
    }

    // -- memory ------------------------------------------------------------
    case "mapMem": {
      const size = num(a.size);
      // Real memory stays small: populate and lock only below 16 MiB.
      const small = size <= 16 << 20;
      const opts = {
        pages: a.pages,
        populate: a.populate && small,
        lock: a.lock && small,
        shared: a.shared,
        name: a.name,
      };
      const mustFail = a.shared && typeof a.name === "string" && a.name.includes("\0")
        ? "the memfd name has a NUL byte"
        : undefined;
      const m = await q.call("memory", "mapMemory", () => mapMemory(size, opts), { mustFail });
      if (m) {
        const entry: MapEntry = { m, size: m.size, view: undefined, wide: undefined, dirty: false };
        q.maps.push(entry);
        entry.view = await q.call("memory", "Mapping.bytes", () => m.bytes);
        if (entry.view && entry.view.byteLength % 8 === 0 && entry.view.byteLength <= 2 ** 30) {
          entry.wide = new Float64Array(entry.view.buffer, entry.view.byteOffset, entry.view.byteLength / 8);
        }
      }
      return;
    }
    case "mapFile": {
      const p = a.path as PathRef;
      const path = pathOf(env, p);
      let advice: string | undefined = a.advice;
      // Advice that faults pages in only when the file is small (writes at 2^40 make sparse giants).
      if (advice && /^(willneed|populate|collapse)/.test(advice)) {
        try {
          if (statSync(path.split("\0")[0]).size > 64 << 20) advice = undefined;
        } catch {
          // missing: mapFile says so
        }
      }
      const opts = {
        mode: a.mode,
        offset: numOr(a.offset),
        length: numOr(a.length),
        shared: a.shared,
        advice: advice as never,
      };
      const mustFail = path.includes("\0") ? "the path has a NUL byte" : undefined;
      const m = await q.call("memory", "mapFile", () => mapFile(path, opts), { mustFail });
      if (m) {
        const entry: MapEntry = { m, size: m.size, view: undefined, wide: undefined, dirty: false };
        q.maps.push(entry);
        entry.view = await q.call("memory", "FileMapping.bytes", () => m.bytes);
      }
      return;
    }
    case "advise": {
      const e = q.pick(q.maps, a.m);
      if (e === SKIP) return;
      const heavy = (x: string) => /^(willneed|populate|collapse)/.test(x);
      if (e.size > 64 << 20 && (a.advice as string[]).some(heavy)) return;
      await q.call("memory", "Mapping.advise", () => e.m.advise(...(a.advice as never[])), {
        expect: e.m.closed ? "EBADF" : undefined,
      });
      return;
    }
    case "mapClose":
    case "bytes":
    case "populate":
    case "lock":
    case "unlock":
    case "residency":
    case "sync":
    case "mapInfo": {
      const e = q.pick(q.maps, a.m);
      if (e === SKIP) return;
      const m = e.m;
      const closed = m.closed;
      switch (a.t) {
        case "mapClose":
          await q.call("memory", "Mapping.close", () => m.close());
          return;
        case "bytes":
          await q.call("memory", "Mapping.bytes", () => m.bytes.length, {
            expect: closed ? "EBADF" : undefined,
          });
          return;
        case "populate":
          if (e.size > 64 << 20) return;
          await q.call("memory", "Mapping.populate", () => m.populate(), {
            expect: closed ? "EBADF" : undefined,
          });
          return;
        case "lock":
          if (e.size > 16 << 20) return;
          await q.call("memory", "Mapping.lock", () => m.lock(), { expect: closed ? "EBADF" : undefined });
          return;
        case "unlock":
          await q.call("memory", "Mapping.unlock", () => m.unlock(), {
            expect: closed ? "EBADF" : undefined,
          });
          return;
        case "residency":
          await q.call("memory", "Mapping.residency", () => m.residency());
          return;
        case "sync":
          if (!(m instanceof FileMapping)) return;
          await q.call("memory", "FileMapping.sync", () => m.sync({ wait: a.wait }), {
            expect: closed ? "EBADF" : undefined,
          });
          return;
        default:
          await q.call(
            "memory",
            "Mapping info",
            () => [m.size, m.address, m.pageSize, m.fd, m.path, m.shared],
          );
          return;
      }
    }
    case "stale": {
      const e = q.pick(q.maps, a.m);
      if (e === SKIP || !e.view || e.view.length === 0) return;
      const view = e.view;
      const at = num(a.at);
      const i = Number.isSafeInteger(at) && at >= 0 ? at % view.length : 0;
      const closed = e.m.closed;
      // Plain JS memory access, no kernelkit call: it must simply not crash, and a closed mapping reads zeros.
      if (a.wide && e.wide && e.wide.length > 0) {
        const j = i % e.wide.length;
        if (a.write) {
          e.wide[j] = 1.5;
          if (closed) e.dirty = true;
        }
        const v = e.wide[j];
        if (closed && !e.dirty && v !== 0) {
          q.fail("stale view", `a closed mapping's Float64Array read ${v}, not 0`);
        }
      } else {
        if (a.write) {
          view[i] = 0xa5;
          if (closed) e.dirty = true;
        }
        const v = view[i];
        if (closed && !e.dirty && v !== 0) {
          q.fail("stale view", `a closed mapping's view read ${v} at ${i}, not 0`);
        }
      }
      return;
    }

    // -- sockets -----------------------------------------------------------
    case "listen": {
      const ring = a.ring === undefined ? undefined : q.ring(a.ring);
      const opts = {
        hostname: a.host,
        port: numOr(a.port),
        backlog: numOr(a.backlog),
        reusePort: a.reusePort,
        ring: ring === SKIP ? undefined : ring,
      };
      const l = await q.call("socket", "listen", () => listen(opts));
      if (l) q.listeners.push(l);
      return;
    }
    case "connect": {
      let port: number;
      if ("l" in a.port) {
        const l = q.pick(q.listeners, a.port.l);
        if (l === SKIP) port = q.closedPorts.length ? q.closedPorts[a.port.l % q.closedPorts.length] : 1;
        else port = l.port;
      } else port = num(a.port.raw);
      const ring = a.ring === undefined ? undefined : q.ring(a.ring);
      const opts = {
        hostname: a.host,
        port,
        ring: ring === SKIP ? undefined : ring,
        signal: q.signal(a.signal) ?? AbortSignal.timeout(1000),
      };
      if (a.bg) {
        // A connect left running, then whatever comes next (a close of its ring, say).
        await q.call("socket", "connect (background)", () =>
          connect(opts).then((s) => {
            q.sockets.push(s);
          }), { background: true });
        return;
      }
      const s = await q.call("socket", "connect", () => connect(opts));
      if (s) q.sockets.push(s);
      return;
    }
    case "accept": {
      const l = q.pick(q.listeners, a.l);
      if (l === SKIP) return;
      const s = await q.call(
        "socket",
        "TcpListener.accept",
        () => l.accept({ signal: AbortSignal.timeout(30) }),
      );
      if (s) q.sockets.push(s);
      return;
    }
    case "serve": {
      const l = q.pick(q.listeners, a.l);
      if (l === SKIP) return;
      await q.call("socket", "TcpListener.serve", () =>
        l.serve((s) => {
          q.sockets.push(s);
        }, (e) => {
          if (!(e instanceof KernelError)) {
            q.violation ??= new Violation(q.step, "TcpListener.serve onError", `got ${String(e)}`);
          }
        }));
      return;
    }
    case "listenerClose": {
      const l = q.pick(q.listeners, a.l);
      if (l === SKIP) return;
      await q.call("socket", "TcpListener.close", () => l.close());
      q.listeners.splice(q.listeners.indexOf(l), 1);
      q.closedPorts.push(l.port);
      q.listenersClosed.push(l);
      return;
    }
    case "send":
    case "sendv":
    case "sendZc":
    case "recv": {
      const s = q.pick(q.sockets, a.s);
      if (s === SKIP) return;
      const raw = q.buffer(a.buf) as Uint8Array;
      const data = a.big ? new Uint8Array(1 << 20) : raw;
      const closed = s.closed;
      const expect = closed ? "EBADF" : undefined;
      const signal = AbortSignal.timeout(a.bg ? 200 : 40);
      const run = (): Promise<unknown> => {
        switch (a.t) {
          case "send":
            return s.send(data, { signal });
          case "sendv":
            return s.sendv([data, raw, data], { signal });
          case "sendZc":
            return s.sendZc(data);
          default:
            return s.recv(data, { signal });
        }
      };
      // A zero-copy send has no signal: one the peer never reads waits until the socket is closed (cleanup does).
      await q.call("socket", `TcpSocket.${a.t}`, run, {
        expect,
        background: a.bg || (a.t === "sendZc" && a.big),
      });
      return;
    }
    case "sockClose":
    case "shutdown":
    case "noDelay": {
      const s = q.pick(q.sockets, a.s);
      if (s === SKIP) return;
      const expect = s.closed && a.t !== "sockClose" ? "EBADF" : undefined;
      await q.call(
        "socket",
        `TcpSocket.${a.t}`,
        () =>
          a.t === "sockClose"
            ? s.close()
            : a.t === "shutdown"
            ? s.shutdown(a.how)
            : s.setNoDelay(a.how === "write"),
        { expect },
      );
      return;
    }

    // -- BPF objects and maps ------------------------------------------------
    case "bpfOpen": {
      let pinRoot: string | undefined;
      if (a.pinRoot === "bpffs") pinRoot = `${env.pinDir}/o${q.pinCount++}`;
      else if (a.pinRoot === "tmp") pinRoot = join(env.dir, `pins${q.pinCount++}`);
      else if (a.pinRoot === "proc") pinRoot = "/proc/kkfz/pins";
      else if (a.pinRoot === "") pinRoot = "";
      if (pinRoot) q.pinRoots.push(pinRoot);
      const src = bpfSource(env, a.src);
      const o = await q.call(
        "bpf",
        "BpfObject.open",
        () => BpfObject.open(src, { pinRoot, name: a.name, logSize: numOr(a.logSize) }),
      );
      if (!o) return;
      q.objects.push(o);
      if (a.load) await q.call("bpf", "BpfObject.load", () => o.load());
      return;
    }
    case "bpfLoad":
    case "bpfClose":
    case "bpfPrograms": {
      const o = q.pick(q.objects, a.o);
      if (o === SKIP) return;
      if (a.t === "bpfLoad") await q.call("bpf", "BpfObject.load", () => o.load());
      else if (a.t === "bpfClose") await q.call("bpf", "BpfObject.close", () => o.close());
      else await q.call("bpf", "BpfObject.programs", () => o.programs.length);
      return;
    }
    case "bpfMap": {
      const o = objectOf(q, a.o);
      if (o === SKIP || o === undefined) return;
      const codecs = a.codec === "u32"
        ? {
          key: {
            size: 4,
            encode: (v: number, b: Uint8Array) => new DataView(b.buffer, b.byteOffset).setUint32(0, v, true),
            decode: (b: Uint8Array) => b[0],
          },
        }
        : {};
      const m = await q.call("bpf", "BpfObject.map", () => o.map(a.name, codecs as never));
      if (m) q.bpfMaps.push(m as BpfMap);
      return;
    }
    case "mapGet":
    case "mapHas":
    case "mapDelete": {
      const m = q.pick(q.bpfMaps, a.bm);
      if (m === SKIP) return;
      const key = keyOf(a.key) as Uint8Array;
      const label = `BpfMap.${a.t === "mapGet" ? "get" : a.t === "mapHas" ? "has" : "delete"}`;
      await q.call(
        "bpf",
        label,
        () => a.t === "mapGet" ? m.get(key) : a.t === "mapHas" ? m.has(key) : m.delete(key),
        {
          expect: q.mapClosed(m) ? "EBADF" : undefined,
        },
      );
      return;
    }
    case "mapSet": {
      const m = q.pick(q.bpfMaps, a.bm);
      if (m === SKIP) return;
      await q.call(
        "bpf",
        "BpfMap.set",
        () => m.set(keyOf(a.key) as Uint8Array, keyOf(a.val) as Uint8Array, a.flag),
        {
          expect: q.mapClosed(m) ? "EBADF" : undefined,
        },
      );
      return;
    }
    case "mapKeys":
    case "mapReadAll":
    case "mapSetAll":
    case "mapDeleteAll":
    case "mapClose2":
    case "mapPin": {
      const m = q.pick(q.bpfMaps, a.bm);
      if (m === SKIP) return;
      const expect = q.mapClosed(m) && a.t !== "mapClose2" ? "EBADF" : undefined;
      const k = keyOf(a.key) as Uint8Array;
      const v = keyOf(a.val) as Uint8Array;
      switch (a.t) {
        case "mapKeys":
          await q.call("bpf", "BpfMap.keys", () => {
            let n = 0;
            for (const _ of m.keys()) if (++n >= 50) break;
            return n;
          }, { expect });
          return;
        case "mapReadAll":
          await q.call("bpf", "BpfMap.readAll", () => m.readAll(numOr(a.chunk)).length, { expect });
          return;
        case "mapSetAll":
          await q.call(
            "bpf",
            "BpfMap.setAll",
            () => m.setAll(Array.from({ length: a.n }, () => [k, v] as const), a.flag),
            {
              expect: a.n > 0 ? expect : undefined,
            },
          );
          return;
        case "mapDeleteAll":
          await q.call("bpf", "BpfMap.deleteAll", () => m.deleteAll(Array.from({ length: a.n }, () => k)), {
            expect: a.n > 0 ? expect : undefined,
          });
          return;
        case "mapPin": {
          const path = `${env.pinDir}/m${q.pinCount++}`;
          q.pinRoots.push(path);
          await q.call("bpf", "BpfMap.pin", () => m.pin(path), { expect });
          return;
        }
        default:
          await q.call("bpf", "BpfMap.close", () => m.close());
          return;
      }
    }
    case "mapFromId":
    case "mapFromName":
    case "mapOpenPinned": {
      let m: BpfMap | undefined;
      if (a.t === "mapFromId") {
        // Only ids of maps this child owns: another process's map is not the fuzzer's to write.
        const mine = q.bpfMaps.filter((x) => !q.mapClosed(x));
        // 0: one of ours (when there is one), 1: -1, anything else (-0, NaN, 2^53) as it is.
        const raw = num(a.id);
        const id = raw === 0 && !Object.is(raw, -0) && mine.length ? mine[0].info.id : raw === 1 ? -1 : raw;
        if (id > 0 && !mine.some((x) => x.info.id === id)) return;
        m = await q.call("bpf", "BpfMap.fromId", () => BpfMap.fromId(id));
      } else if (a.t === "mapFromName") {
        if (a.name !== "kkfz_none" && a.name !== "") return; // names are host-wide: only ones that can't exist
        m = await q.call("bpf", "BpfMap.fromName", () => BpfMap.fromName(a.name));
      } else {
        m = await q.call("bpf", "BpfMap.openPinned", () => BpfMap.openPinned(`${env.pinDir}/${a.name}`));
      }
      if (m) {
        q.bpfMaps.push(m);
        q.ownedMaps.push(m);
      }
      return;
    }
    case "progRun": {
      const o = objectOf(q, a.o);
      if (o === SKIP || o === undefined) return;
      const prog = await q.call("bpf", "BpfObject.program", () => o.program(a.name));
      if (!prog) return;
      const input = new Uint8Array(a.size);
      input.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x00].slice(0, a.size));
      await q.call(
        "bpf",
        "BpfProgram.run",
        () => (prog as BpfProgram).run(input, { repeat: numOr(a.repeat), outputSize: numOr(a.out) }),
      );
      return;
    }

    // -- XDP -----------------------------------------------------------------
    case "xdpAttach": {
      const o = objectOf(q, a.o);
      if (o === SKIP || o === undefined) return;
      const prog = await q.call("bpf", "BpfObject.program", () => o.program(a.name));
      if (!prog) return;
      const ifname = ifnameOf(env, a.ifname);
      let persist: boolean | string | undefined;
      if (a.persist === "yes") persist = true;
      else if (a.persist === "path") persist = `${env.pinDir}/l${q.pinCount++}`;
      else if (a.persist === "badpath") persist = join(env.dir, "not-bpffs", "link");
      const mustFail = ifname.includes("\0") ? "the interface name has a NUL byte" : undefined;
      const link = await q.call(
        "xdp",
        "attachXdp",
        () => prog.attachXdp(ifname, { mode: a.mode, replace: a.replace, persist }),
        {
          mustFail,
        },
      );
      if (link) {
        q.links.push(link);
        if (link.pinnedAt) q.pins.add(link.pinnedAt);
      }
      return;
    }
    case "xdpDetach":
    case "xdpClose":
    case "xdpUpdate":
    case "xdpPin":
    case "xdpFd":
    case "xdpOpenPinned": {
      if (a.t === "xdpOpenPinned") {
        const pins = [...q.pins];
        const path = pins.length ? pins[a.k % pins.length] : `${env.pinDir}/none`;
        const l = await q.call("xdp", "XdpLink.openPinned", () => XdpLink.openPinned(path));
        if (l) q.links.push(l);
        return;
      }
      const l = q.pick(q.links, a.k);
      if (l === SKIP) return;
      let open = true;
      try {
        void l.fd;
      } catch {
        open = false;
      }
      const expect = open ? undefined : "EBADF";
      switch (a.t) {
        case "xdpDetach":
          await q.call("xdp", "XdpLink.detach", () => l.detach(), { expect });
          return;
        case "xdpClose":
          await q.call("xdp", "XdpLink.close", () => l.close());
          return;
        case "xdpFd":
          await q.call("xdp", "XdpLink.fd", () => l.fd, { expect });
          return;
        case "xdpPin": {
          const path = `${env.pinDir}/p${q.pinCount++}`;
          const done = await q.call("xdp", "XdpLink.pin", () => (l.pin(path), true), { expect });
          if (done) q.pins.add(path);
          return;
        }
        default: {
          const o = objectOf(q, a.o);
          if (o === SKIP || o === undefined) return;
          const prog = await q.call(
            "bpf",
            "BpfObject.program",
            () => o.program(a.o === -1 ? "kk_firewall" : "kk_drop"),
          );
          if (!prog) return;
          await q.call("xdp", "XdpLink.update", () => l.update(prog), { expect });
          return;
        }
      }
    }
    case "xdpQuery": {
      const ifname = ifnameOf(env, a.ifname);
      await q.call("xdp", "queryXdp", () => queryXdp(ifname), {
        mustFail: ifname.includes("\0") ? "the interface name has a NUL byte" : undefined,
      });
      return;
    }
    case "fwAttach": {
      const ifname = ifnameOf(env, a.ifname);
      const f = await q.call(
        "xdp",
        "XdpFirewall.attach",
        () => XdpFirewall.attach(ifname, { mode: a.mode, replace: a.replace }),
        {
          mustFail: ifname.includes("\0") ? "the interface name has a NUL byte" : undefined,
        },
      );
      if (f) q.firewalls.push(f);
      return;
    }
    case "fwBlock":
    case "fwUnblock":
    case "fwList":
    case "fwStats":
    case "fwClose":
    case "fwDetach": {
      const f = q.pick(q.firewalls, a.f);
      if (f === SKIP) return;
      let open = true;
      try {
        void f.link.fd;
      } catch {
        open = false;
      }
      const expect = open || a.t === "fwClose" ? undefined : "EBADF";
      const run = (): unknown => {
        switch (a.t) {
          case "fwBlock":
            return f.block(a.cidr);
          case "fwUnblock":
            return f.unblock(a.cidr);
          case "fwList":
            return f.list().length;
          case "fwStats":
            return f.stats().passed.packets;
          case "fwClose":
            return f.close();
          default:
            return f.detach();
        }
      };
      // An invalid range is EINVAL whether or not the firewall is open; only valid ones must see EBADF.
      const validCidr = ["fwBlock", "fwUnblock"].includes(a.t)
        ? !/^(|x\/y|10\.0\.0\.0\/33|1\.2\.3\.4\/-1)$/.test(a.cidr)
        : true;
      await q.call("xdp", `XdpFirewall.${a.t.slice(2).toLowerCase()}`, run, {
        expect: validCidr ? expect : undefined,
      });
      return;
    }
    default:
      throw new Error(`unknown action ${JSON.stringify(a)}`);
  }
}

/**
 * Runs one sequence in fresh objects (the child's shared BPF objects aside),
 * then closes everything it opened. Throws the first {@link Violation}.
 */
export async function runSequence(
  actions: readonly Action[],
  env: Env,
  stats: Stats,
  records?: CallRecord[],
): Promise<void> {
  resetFiles(env);
  stats.sequences++;
  const q = new Sequence(env, stats, records);
  try {
    for (let i = 0; i < actions.length; i++) {
      q.step = i;
      await step(q, actions[i]);
      if (q.violation) break;
    }
  } catch (e) {
    if (!(e instanceof Violation)) throw e;
  } finally {
    for (const l of q.listenersClosed) q.listeners.push(l);
    await q.cleanup();
  }
  if (q.violation) throw q.violation;
}

/** Closes the child's shared objects. */
export function closeShared(env: Env): void {
  env.shared?.fw?.close();
  env.shared?.drop?.close();
  env.shared = undefined;
}

/** JSON of a sequence, one action per line, for regression files. */
export function formatActions(actions: readonly Action[]): string {
  return `[\n${actions.map((x) => `    ${JSON.stringify(x)}`).join(",\n")}\n  ]`;
}
