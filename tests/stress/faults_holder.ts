/**
 * Child process for tests/stress/faults.test.ts: a process that holds a bit
 * of everything kernelkit owns in the kernel, and waits to be killed with
 * SIGKILL.
 *
 *   faults_holder.ts FW_IFNAME OBJ_IFNAME DATA_FILE MAP_FILE
 *
 * It holds:
 * - a ring with ops pending: 60 s timeouts, a hard-linked chain behind one, a
 *   poll and a read on an empty pipe, and a READ_FIXED into registered buffers
 *   that live in an anonymous mapping (mapMemory);
 * - an SQPOLL ring with a pending timeout (its kernel thread must go too);
 * - an XdpFirewall on FW_IFNAME (link-based, not persistent) with a blocked range;
 * - a second BpfObject (the firewall's object, opened by path) whose program is
 *   attached with xdp.attach in generic mode on OBJ_IFNAME;
 * - a shared read-write file mapping of MAP_FILE, written through;
 * - a stream of ring writes of 16 KiB blocks into DATA_FILE.
 *
 * It prints one JSON line `{"ready": ...}` with the ids the test checks, then
 * `ack N` after each block write N completes, and `mapped` once the file
 * mapping is written. It never exits by itself within the test's bounds.
 *
 * @module
 */
import process from "node:process";
import { fileURLToPath } from "node:url";
import { BpfObject, CWD, makePipe, mapFile, mapMemory, Ring, xdp, XdpFirewall } from "../../src/mod.ts";
import { O_CLOEXEC, O_CREAT, O_WRONLY } from "../../ffi/structs/fcntl.ts";
import { pattern } from "../support/uring.ts";

/** The block size of the write stream (the test uses the same). */
const BLOCK = 16 * 1024;

const [fwIf, objIf, dataFile, mapPath] = process.argv.slice(2);
const POLLIN = 0x1;

const ring = new Ring({ entries: 128 });
const sqpoll = new Ring({ entries: 8, sqpoll: { idleMs: 20 } });
const pipe = makePipe(64 * 1024);

// Ops that stay pending until the process dies.
const pending: Promise<unknown>[] = [];
const keep = (p: Promise<unknown>) => pending.push(p.catch(() => {}));
for (let i = 0; i < 32; i++) keep(ring.timeout(60_000));
keep(ring.timeout(60_000, { link: "hard" }));
keep(ring.nop({ link: "hard" }));
keep(ring.read(pipe.read, new Uint8Array(512), -1, 512, { link: "hard" }));
keep(ring.nop());
keep(ring.pollAdd(pipe.read, POLLIN));
keep(ring.read(pipe.read, new Uint8Array(4096)));
keep(sqpoll.timeout(60_000));

// Registered buffers in mapped memory, with a READ_FIXED waiting on the pipe.
const memory = mapMemory(1 << 20);
memory.bytes.fill(0x5a);
const fixed = [memory.bytes.subarray(0, 64 * 1024), memory.bytes.subarray(64 * 1024, 128 * 1024)];
ring.registerBuffers(fixed);
keep(ring.readFixed(pipe.read, fixed[1], -1, 4096));
ring.submit();

// The firewall: its own object, program, maps and link.
const fw = XdpFirewall.attach(fwIf, { mode: "native" });
fw.block("198.51.100.0/24");

// A second object, opened by path and attached with xdp.attach.
const object = BpfObject.open(fileURLToPath(new URL("../../bpf/xdp_firewall.bpf.o", import.meta.url)), {
  name: "kk_faults",
});
object.load();
const program = object.program("kk_firewall");
const objLink = xdp.attach(program, objIf, { mode: "generic" });

// A shared file mapping, written through: the page cache keeps what the process wrote.
const fileMap = mapFile(mapPath, { mode: "rw" });
fileMap.bytes.set(pattern(fileMap.bytes.length, 77));

console.log(JSON.stringify({
  ready: true,
  pid: process.pid,
  ringFd: ring.fd,
  sqpollFd: sqpoll.fd,
  pending: ring.pending,
  fwLinkId: fw.link.id,
  objLinkId: objLink.id,
  objProgramId: program.id,
  objMapIds: ["blocklist_v4", "blocklist_v6", "stats"].map((name) => object.map(name).info.id),
}));
console.log("mapped");

// Everything stays referenced: a collected link or mapping would be closed by its finalizer.
(globalThis as { held?: unknown }).held = [
  ring,
  sqpoll,
  pipe,
  memory,
  fixed,
  fw,
  object,
  program,
  objLink,
  fileMap,
  pending,
];

const fd = await ring.openat(CWD, dataFile, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600);
const t0 = performance.now();
for (let i = 0; i < 4096 && performance.now() - t0 < 20_000; i++) {
  const n = await ring.write(fd, pattern(BLOCK, i + 1), i * BLOCK);
  if (n !== BLOCK) throw new Error(`short write ${n}`);
  console.log(`ack ${i}`);
  // Slow down after the first blocks, so the kill lands mid-stream.
  if (i >= 32) await ring.timeout(2);
}
setInterval(() => void (globalThis as { held?: unknown }).held, 1000);
