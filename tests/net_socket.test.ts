import assert from "node:assert/strict";
import { guardFile, test } from "./harness.ts";
import { connect, KernelError, listen, ProvidedBuffers, Ring, type TcpSocket } from "../src/mod.ts";

guardFile();

const enc = new TextEncoder();
const dec = new TextDecoder();

async function readAll(sock: TcpSocket): Promise<string> {
  const buf = new Uint8Array(4096);
  let out = "";
  for (let i = 0; i < 10_000; i++) {
    const n = await sock.recv(buf);
    if (n === 0) return out;
    out += dec.decode(buf.subarray(0, n));
  }
  throw new Error("no end of stream after 10 000 reads");
}

for (const hostname of ["127.0.0.1", "::1"]) {
  test(`TCP over ${hostname}: listen, multishot accept, echo with send, sendv and sendZc`, async () => {
    using ring = new Ring();
    using listener = listen({ hostname, port: 0, ring });
    assert.equal(listener.hostname, hostname);
    assert.ok(listener.port > 0);
    listener.serve(async (s) => {
      const buf = new Uint8Array(256);
      const n = await s.recv(buf);
      await s.send(enc.encode("echo:"));
      await s.sendv([buf.slice(0, n), enc.encode("|")]);
      assert.equal(await s.sendZc(enc.encode("zero-copy")), 9);
      s.close();
    });
    const replies = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      using c = await connect({ hostname, port: listener.port, ring });
      c.setNoDelay();
      await c.send(enc.encode(`client ${i}`));
      return await readAll(c);
    }));
    replies.forEach((r, i) => assert.equal(r, `echo:client ${i}|zero-copy`));
  });
}

test("multishot recv into provided buffers reassembles a stream larger than the buffers", async () => {
  using ring = new Ring();
  using group = new ProvidedBuffers(ring, { count: 4, size: 64, group: 3 });
  using listener = listen({ hostname: "127.0.0.1", port: 0, ring });
  const received = new Promise<{ text: string; ids: Set<number> }>((resolve) => {
    listener.serve((s) => {
      let text = "";
      const ids = new Set<number>();
      ring.recvMultishot(s.fd, group, (res, flags) => {
        if (res > 0) {
          const id = flags >>> 16;
          ids.add(id);
          text += dec.decode(group.buffer(id, res));
          group.recycle(id);
        }
        if ((flags & 2) === 0) {
          s.close();
          resolve({ text, ids });
        }
      });
    });
  });
  const payload = "x".repeat(1000) + "-end";
  {
    using c = await connect({ hostname: "127.0.0.1", port: listener.port, ring });
    for (let i = 0; i < payload.length; i += 100) await c.send(enc.encode(payload.slice(i, i + 100)));
    await c.shutdown();
    const { text, ids } = await received;
    assert.equal(text, payload);
    assert.ok([...ids].every((id) => id >= 0 && id < 4));
  }
});

test("a reset peer fails only its own connection", async () => {
  using ring = new Ring();
  using listener = listen({ hostname: "127.0.0.1", port: 0, ring });
  const servers: TcpSocket[] = [];
  listener.serve((s) => servers.push(s));
  using a = await connect({ hostname: "127.0.0.1", port: listener.port, ring });
  using b = await connect({ hostname: "127.0.0.1", port: listener.port, ring });
  for (let i = 0; i < 100 && servers.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(servers.length, 2);
  a.close();
  // Writing into a closed connection fails with EPIPE or ECONNRESET, eventually.
  const big = new Uint8Array(1 << 20);
  await assert.rejects(
    (async () => {
      for (let i = 0; i < 64; i++) await servers[0].send(big);
    })(),
    (e: unknown) => e instanceof KernelError && ["EPIPE", "ECONNRESET"].includes(e.code),
  );
  await servers[1].send(enc.encode("fine"));
  await servers[1].shutdown();
  assert.equal(await readAll(b), "fine");
  servers.forEach((s) => s.close());
});

test("closing a socket with a recv in flight rejects it with ECANCELED; double close is harmless", async () => {
  using ring = new Ring();
  using listener = listen({ hostname: "127.0.0.1", port: 0, ring });
  const accepted = listener.accept();
  using c = await connect({ hostname: "127.0.0.1", port: listener.port, ring });
  const s = await accepted;
  const pending = s.recv(new Uint8Array(16));
  s.close();
  s.close();
  const r = await pending.then((n) => n, (e) => e);
  assert.ok(r === 0 || (r instanceof KernelError && r.code === "ECANCELED"), String(r));
  assert.throws(() => s.recv(new Uint8Array(1)), (e: unknown) => e instanceof KernelError && e.code === "EBADF");
  assert.equal(ring.pending, 0);
});

test("bad socket input is a KernelError with the syscall, errno and a fix", async () => {
  using ring = new Ring();
  const is = (syscall: string, code: string) => (e: unknown) =>
    e instanceof KernelError && e.syscall === syscall && e.code === code && e.message.length > 40;
  assert.throws(() => listen({ hostname: "999.1.1.1", ring }), is("bind", "EINVAL"));
  assert.throws(() => listen({ hostname: "127.0.0.1", port: 70000, ring }), is("bind", "EINVAL"));
  using busy = listen({ hostname: "127.0.0.1", port: 0, ring });
  assert.throws(() => listen({ hostname: "127.0.0.1", port: busy.port, ring }), is("bind", "EADDRINUSE"));
  // Nothing listens on the busy listener's port + 1 after it is closed: connection refused.
  const port = busy.port;
  busy.close();
  await assert.rejects(connect({ hostname: "127.0.0.1", port, ring }), is("connect", "ECONNREFUSED"));
  await assert.rejects(connect({ hostname: "not-an-ip", port: 80, ring }), is("connect", "EINVAL"));
});

test("sendZc: 200 zero-copy sends resolve after their notifications, byte-exact, with no slot left pending", async () => {
  using ring = new Ring();
  using listener = listen({ hostname: "127.0.0.1", port: 0, ring });
  const accepted = listener.accept();
  using client = await connect({ hostname: "127.0.0.1", port: listener.port, ring });
  using server = await accepted;
  const N = 200;
  const chunks = Array.from({ length: N }, (_, i) => enc.encode(`[${String(i).padStart(3, "0")}:${"z".repeat(i % 50)}]`));
  // In order: each send waits for the one before (SEND_ZC keeps no order between concurrent sends).
  const sent = (async () => {
    let total = 0;
    for (const c of chunks) total += await server.sendZc(c);
    await server.shutdown("write");
    return total;
  })();
  const text = await readAll(client);
  assert.equal(await sent, chunks.reduce((a, c) => a + c.length, 0));
  assert.equal(text, chunks.map((c) => dec.decode(c)).join(""));
  // Each op's notification CQE came and went: nothing is waiting in the in-flight table.
  assert.equal(ring.pending, 0);
});

test("listen: reusePort lets two listeners share a port; without it the second is EADDRINUSE", () => {
  using ring = new Ring();
  using a = listen({ hostname: "127.0.0.1", port: 0, reusePort: true, backlog: 16, ring });
  using b = listen({ hostname: "127.0.0.1", port: a.port, reusePort: true, ring });
  assert.equal(b.port, a.port);
  assert.throws(
    () => listen({ hostname: "127.0.0.1", port: a.port, ring }),
    (e: unknown) => e instanceof KernelError && e.code === "EADDRINUSE" && e.syscall === "bind" && e.hint !== undefined,
  );
});
