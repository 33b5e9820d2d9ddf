/**
 * Soak tests (issue 9, part 2): long runs of the public API under load, each
 * in a child process of the test's runtime, so that the RSS and fds measured
 * are the soak's own, a crash shows as an exit status, and Deno can run with
 * --expose-gc. Each child prints one JSON line of measurements; the bounds
 * are asserted here:
 *
 * - io_uring: ops on one Ring mixed across openat, write, read, close and
 *   timeout, with random cancellations and a bounded number in flight;
 * - HTTP: serveStatic under clients that disconnect at random;
 * - XDP: XdpFirewall block/unblock while UDP traffic flows over a veth pair.
 *
 * After each: RSS growth (after a warm-up, with GC forced) under 20 MB, the
 * same fds open as at the baseline, and no ring op left pending.
 *
 * The short profile (`npm test`, CI) runs each for a few seconds; the full one
 * (KERNELKIT_STRESS=full, `npm run test:stress`) runs the counts: 10M
 * ring ops, 100k HTTP requests, 10k XDP map updates.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { guardFile, skipUnless, test } from "../harness.ts";
import { netnsMissing, withNetns } from "../support/netns.ts";
import { runScript, runtimeName } from "../support/process.ts";
import { scaled, stressProfile } from "./profile.ts";
import { XdpFirewall } from "../../src/mod.ts";

guardFile();

const here = new URL("./", import.meta.url).pathname;
const MiB = 2 ** 20;
const RSS_GROWTH_LIMIT = 20 * MiB;
const full = stressProfile === "full";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

/** Runs a soak child to its end and returns its JSON line; prints the figures for the record. */
function soakChild(script: string, args: (string | number)[], timeoutMs: number): Json {
  const t0 = performance.now();
  const r = runScript(join(here, script), args.map(String), {
    env: { DENO_V8_FLAGS: "--expose-gc" },
    timeoutMs,
  });
  const ms = Math.round(performance.now() - t0);
  assert.equal(r.signal, null, `${script} died of ${r.signal} after ${ms} ms: ${r.stderr.slice(-3000)}`);
  const line = r.stdout.trim().split("\n").pop() ?? "";
  assert.equal(
    r.status,
    0,
    `${script} exited with ${r.status}: ${r.stderr.slice(-3000)} ${line.slice(0, 2000)}`,
  );
  const out = JSON.parse(line) as Json;
  out.childMs = ms;
  return out;
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

/** The RSS and fd bounds every soak shares. */
function assertFootprint(what: string, out: Json): void {
  const growth = out.rssAfter - out.rssBaseline;
  assert.ok(
    growth < RSS_GROWTH_LIMIT,
    `${what}: RSS grew ${mib(growth)} (${mib(out.rssBaseline)} → ${mib(out.rssAfter)}, peak ${
      mib(out.rssPeak)
    })`,
  );
  assert.deepEqual(out.fdsNew, [], `${what}: fds open after the soak that weren't at the baseline`);
  assert.deepEqual(out.fdsGone, [], `${what}: fds of the baseline closed by the soak`);
}

function record(what: string, figures: Record<string, unknown>): void {
  console.log(`soak ${what} (${runtimeName}, ${stressProfile}): ${JSON.stringify(figures)}`);
}

const uringOps = scaled(1_000_000, 10_000_000);
const uringSeconds = scaled(10, 1500);
const uringConcurrency = 64;

test(
  `soak io_uring: ${uringOps} ops mixed across openat, write, read, close and timeout, with random cancellations (${runtimeName})`,
  () => {
    const out = soakChild("soak_uring.ts", [
      "--ops",
      uringOps,
      "--seconds",
      uringSeconds,
      "--warmup",
      scaled(150_000, 1_000_000),
      "--concurrency",
      uringConcurrency,
    ], (uringSeconds * 2 + 90) * 1000);
    const s = out.stats;
    record("io_uring", {
      ops: out.main.ops,
      ms: out.main.ms,
      opsPerSec: out.opsPerSec,
      canceled: Object.fromEntries(
        Object.entries(s.byKind as Json).map(([k, v]) => [k, `${v.canceled}/${v.ops}`]),
      ),
      rssBaseline: mib(out.rssBaseline),
      rssGrowth: mib(out.rssAfter - out.rssBaseline),
      rssPeak: mib(out.rssPeak),
      fds: `${out.fdsBaseline} → ${out.fdsAfter}`,
      maxPending: s.maxPending,
      pending: out.pending,
      childMs: out.childMs,
      seed: out.seed,
    });
    assert.equal(out.hung, undefined, `a worker hung with ${out.pending} ops pending`);
    assert.equal(
      s.errors,
      0,
      `${s.errors} wrong results (seed ${out.seed}):\n  ${out.errorSamples.join("\n  ")}`,
    );
    // The short profile is bounded in time too: a slow or busy host still has to do a fair share.
    const wanted = full ? uringOps : Math.min(uringOps, 200_000);
    assert.ok(out.main.ops >= wanted, `only ${out.main.ops} of ${uringOps} ops in ${out.main.ms} ms`);
    for (const kind of ["openat", "write", "read", "close", "timeout"]) {
      assert.ok(s.byKind[kind].ops > 0, `no ${kind} op ran`);
    }
    assert.equal(s.fileMismatches, 0);
    assert.equal(s.pipeMismatches, 0);
    assert.ok(s.fileChecks > 0 && s.pipeChecks > 0, "file and pipe contents were checked");
    assert.ok(
      s.emptyPipeCancels > 0 && s.longTimeoutCancels > 0,
      "canceled reads and timeouts rejected with ECANCELED",
    );
    assert.ok(
      s.byKind.write.canceled + s.byKind.read.canceled > s.emptyPipeCancels,
      "random cancels hit reads and writes too",
    );
    // Each worker has at most three ops out (a read, a write and the NOP that times a cancel).
    assert.ok(
      s.maxPending <= uringConcurrency * 3,
      `${s.maxPending} ops in flight, over the bound of ${uringConcurrency * 3}`,
    );
    assert.equal(out.pending, 0, "ops left pending in the ring");
    assertFootprint("io_uring", out);
    // Once the ring and pipes are closed, only the runtime's own fds (and the parked waker's eventfd) remain.
    assert.deepEqual(out.oursLeftAtExit, [], "the ring, the soak's files or its pipes outlived close()");
  },
  { timeout: (uringSeconds * 2 + 120) * 1000 },
);

const httpRequests = scaled(3000, 100_000);
const httpSeconds = scaled(20, 1500);

test(
  `soak HTTP: ${httpRequests} requests against serveStatic, with clients that disconnect at random (${runtimeName})`,
  () => {
    const out = soakChild("soak_http.ts", [
      "--requests",
      httpRequests,
      "--seconds",
      httpSeconds,
      "--warmup",
      scaled(800, 10_000),
      "--concurrency",
      32,
    ], (httpSeconds * 2 + 120) * 1000);
    const m = out.main;
    record("http", {
      requests: m.requests,
      ms: out.mainMs,
      requestsPerSec: out.requestsPerSec,
      verified: m.verified,
      verifiedMiB: +(m.verifiedBytes / MiB).toFixed(1),
      sessions: m.byKind,
      rssBaseline: mib(out.rssBaseline),
      rssGrowth: mib(out.rssAfter - out.rssBaseline),
      rssPeak: mib(out.rssPeak),
      fds: `${out.fdsBaseline} → ${out.fdsAfter}`,
      pipes: `${out.pipesBaseline} → ${out.pipesAfter}`,
      pending: out.pending,
      childMs: out.childMs,
      seed: out.seed,
    });
    for (const [name, run] of [["warm-up", out.warmup], ["soak", m]] as const) {
      assert.equal(
        run.failures,
        0,
        `${name}: ${run.failures} clients that stayed got a wrong or no response (seed ${out.seed}):\n  ${
          run.failureSamples.join("\n  ")
        }`,
      );
      assert.equal(run.finalFailed, 0, `${name}: the server stopped serving`);
      assert.ok(run.finalOk > 0);
    }
    const wanted = full ? httpRequests : Math.min(httpRequests, 1000);
    assert.ok(m.requests >= wanted, `only ${m.requests} of ${httpRequests} requests in ${out.mainMs} ms`);
    for (const kind of ["keepAlive", "connectOnly", "midRequest", "afterRequest", "afterHead", "midBody"]) {
      assert.ok((m.byKind[kind] ?? 0) > 0, `no ${kind} session ran`);
    }
    assert.ok(m.verified > m.requests / 3, `only ${m.verified} responses checked`);
    assert.deepEqual(out.serverErrors, []);
    assert.equal(out.leftAfterMain, 0, "connections the clients left are still open on the server");
    assert.equal(out.pending, 0, "the server's ring has ops pending after close()");
    assertFootprint("http", out);
    // sendfileAsync's pool keeps at most 64 idle pipes (two fds each).
    assert.ok(out.pipesAfter <= 128, `${out.pipesAfter} pipe fds open`);
  },
  { timeout: (httpSeconds * 2 + 150) * 1000 },
);

const xdpUpdates = scaled(2000, 10_000);

skipUnless(
  netnsMissing,
  `soak XDP: ${xdpUpdates} XdpFirewall block/unblock updates while UDP traffic flows (${runtimeName})`,
  async () => {
    await withNetns((ns) => {
      const net23 = `${ns.host4.split(".").slice(0, 3).join(".")}.0/23`;
      const out = soakChild("soak_xdp.ts", [
        "--netns",
        ns.name,
        "--dev",
        ns.hostIf,
        "--host4",
        ns.host4,
        "--peers",
        ns.peer4.join(","),
        "--net23",
        net23,
        "--updates",
        xdpUpdates,
        "--warmup",
        scaled(300, 1000),
        "--ms",
        scaled(3000, 10_000),
      ], scaled(90_000, 300_000));
      const k = out.counters;
      record("xdp", {
        updates: out.updates,
        ms: out.mainMs,
        updatesPerSec: out.updatesPerSec,
        finalBlocklist: out.finalBlocklist,
        sent: out.sent,
        received: out.receivedTotal,
        counters: k,
        quiet: out.quiet.sources,
        rssBaseline: mib(out.rssBaseline),
        rssGrowth: mib(out.rssAfter - out.rssBaseline),
        fds: `${out.fdsBaseline} → ${out.fdsAfter}`,
        childMs: out.childMs,
        seed: out.seed,
      });
      assert.deepEqual(out.failures, [], `seed ${out.seed}`);
      assert.equal(out.stats.wrongAnswers, 0);
      assert.equal(out.stats.listMismatches, 0);
      assert.ok(out.stats.listChecks >= Math.floor(xdpUpdates / 500));
      assert.equal(out.finalListMatches, true, "the final blocklist differs from the model");
      assert.ok(out.updates >= xdpUpdates);
      assert.equal(out.flowing, true, "no traffic arrived before the updates started");
      assert.equal(out.senderStatus, 0, out.senderErr);
      assert.equal(out.sender.errors, 0);
      assert.ok(out.sent > 0);
      // Every datagram that left the namespace was seen by the firewall, passed or blocked, and nothing else was.
      assert.ok(k.seen4 <= out.sent, `the firewall counted ${k.seen4} IPv4 packets, ${out.sent} were sent`);
      assert.ok(
        k.seen4 >= out.sent * 0.99,
        `the firewall counted ${k.seen4} IPv4 packets of the ${out.sent} sent`,
      );
      assert.ok(
        out.receivedTotal <= k.passed4,
        `the socket got ${out.receivedTotal}, more than the ${k.passed4} passed`,
      );
      assert.equal(k.dropped, k.blocked4 + k.blocked6);
      assert.ok(k.rangePackets <= k.blocked4 + k.blocked6, "the ranges counted more drops than the firewall");
      assert.ok(
        k.blockedDuringSoak > 0 && k.passedDuringSoak > 0,
        "traffic was both dropped and passed while the map changed",
      );
      // The last, quiet delivery: dropped exactly where the model has a range, counted on the most specific one.
      const q = out.quiet;
      assert.equal(q.sendStatus, 0, q.sendErr);
      for (const src of q.sources) {
        if (src.blockedBy) {
          assert.equal(src.received, 0, `${src.source} is blocked by ${src.blockedBy}, yet arrived`);
          assert.equal(
            src.rangeDelta,
            5,
            `${src.blockedBy} counted ${src.rangeDelta} of ${src.source}'s 5 drops`,
          );
        } else {
          assert.equal(src.received, 5, `${src.source} is not blocked, yet ${src.received} of 5 arrived`);
        }
      }
      assert.equal(q.blockedDelta, q.expectBlocked);
      assert.equal(q.passedDelta, q.expectPassed);
      assertFootprint("xdp", out);
    });
  },
  { timeout: scaled(120_000, 360_000) },
);

// Found by the XDP soak: block() asked has() first, and a lookup in an LPM trie is a
// longest-prefix match, so a range inside one already blocked was said to be blocked
// (false) and never added; unblocking the broad one then let it through.
skipUnless(
  netnsMissing,
  "xdp firewall: a range inside a blocked one is blocked on its own (soak regression)",
  async () => {
    await withNetns((ns) => {
      using fw = XdpFirewall.attach(ns.hostIf);
      for (const [broad, narrow] of [["10.0.0.0/8", "10.1.0.0/16"], ["2001:db8::/32", "2001:db8:1::/48"]]) {
        assert.equal(fw.block(broad), true);
        assert.equal(fw.block(narrow), true, `${narrow} inside the blocked ${broad}`);
        assert.equal(fw.block(narrow), false);
        assert.equal(fw.unblock(broad), true);
        assert.deepEqual(fw.list().map((r) => r.cidr).filter((c) => c === broad || c === narrow), [narrow]);
        assert.equal(fw.unblock(narrow), true);
        assert.equal(fw.unblock(narrow), false);
      }
      assert.deepEqual(fw.list(), []);
    });
  },
);
