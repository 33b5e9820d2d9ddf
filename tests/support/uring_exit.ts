/**
 * Child process for tests/uring_safety.test.ts: a program that opens a ring,
 * does ops that wait (so the waker thread starts) and then ends in one of
 * several ways. It must exit on its own; the test bounds it with a timeout.
 *
 *   close     closes the ring
 *   dispose   lets `using` close it
 *   inflight  closes it with a read still waiting on an empty pipe
 *   leave     never closes it (the idle waker must not keep the process alive)
 */
import { Ring } from "../../src/mod.ts";
import { sys } from "../../src/native.ts";

const mode = process.argv[2] ?? "close";

async function work(ring: Ring): Promise<void> {
  await ring.nop();
  await ring.timeout(5);
  await Promise.all([ring.timeout(1), ring.nop()]);
}

if (mode === "dispose") {
  using ring = new Ring({ entries: 8 });
  await work(ring);
} else {
  const ring = new Ring({ entries: 8 });
  await work(ring);
  if (mode === "close") ring.close();
  if (mode === "inflight") {
    const fds = new Int32Array(2);
    sys().pipe2(fds, 0o2000000);
    const read = ring.read(fds[0], new Uint8Array(8)).then(() => "resolved", (e) => e.code);
    await new Promise((r) => setTimeout(r, 10));
    ring.close();
    console.log(`read: ${await read}`);
  }
}
console.log(`done ${mode}`);
