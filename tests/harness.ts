/**
 * One test suite for two runners: `bun test` and `deno test`.
 *
 * Test files import `test` and `skipUnless` from here and assert with
 * `node:assert`, which both runtimes provide.
 *
 * @module
 */
import { installGuard } from "./support/guard.ts";

/** A test body. */
export type TestFn = () => void | Promise<void>;

/** Options of a test. */
export interface TestOptions {
  /** Milliseconds before the runner fails the test (default 30 000). */
  readonly timeout?: number;
}

interface BunTest {
  (name: string, fn: TestFn, timeout?: number): void;
  skip(name: string, fn: TestFn): void;
}

interface Hooks {
  beforeAll(fn: () => void): void;
  afterAll(fn: () => Promise<void>): void;
}

const g = globalThis as { Bun?: unknown; Deno?: typeof Deno; process?: { env: Record<string, string | undefined> } };
const bunModule = g.Bun
  ? (import.meta as unknown as { require(id: string): { test: BunTest } & Hooks }).require("bun:test")
  : undefined;
const bunTest: BunTest | undefined = bunModule?.test;

/** True when running under CI (`CI=true`): a skip of an available capability is a failure there. */
export const inCI: boolean = (g.Deno ? g.Deno.env.get("CI") : g.process?.env.CI) === "true";

/**
 * Puts the calling test file under the leak guard (tests/support/guard.ts):
 * after its last test, the file fails if it left an fd, a BPF program or map
 * behind, or if the kernel logged a BUG, WARNING or Oops while it ran. Every
 * test file calls it once, after its imports.
 */
export function guardFile(): void {
  const hooks: Hooks = bunModule ?? (g.Deno!.test as unknown as Hooks);
  installGuard(hooks);
}

/** Registers a test with the runner. */
export function test(name: string, fn: TestFn, options: TestOptions = {}): void {
  const timeout = options.timeout ?? 30_000;
  if (bunTest) {
    bunTest(name, fn, timeout);
    return;
  }
  g.Deno!.test({
    name,
    // FFI-heavy tests own native resources the sanitizers can't see; kernelkit's
    // own leak checks live in the tests themselves.
    sanitizeOps: false,
    sanitizeResources: false,
    sanitizeExit: false,
    fn: async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`test timed out after ${timeout} ms`)), timeout);
      });
      try {
        await Promise.race([Promise.resolve().then(fn), limit]);
      } finally {
        clearTimeout(timer);
      }
    },
  });
}

function skip(name: string, reason: string): void {
  const label = `${name} [skipped: ${reason}]`;
  if (bunTest) bunTest.skip(label, () => {});
  else g.Deno!.test({ name: label, ignore: true, fn: () => {} });
}

/**
 * Registers a test that needs a capability. `missing` is null when the
 * capability is there, or the reason it isn't. Outside CI the test then skips
 * with that reason; under `CI=true` it fails with it, because CI runs as root
 * on a kernel that has everything kernelkit uses.
 */
export function skipUnless(
  missing: string | null,
  name: string,
  fn: TestFn,
  options: TestOptions = {},
): void {
  if (missing === null) test(name, fn, options);
  else if (inCI) {
    test(name, () => {
      throw new Error(`CI=true and this host lacks what the test needs: ${missing}`);
    }, options);
  } else skip(name, missing);
}

/**
 * {@link skipUnless} for a feature that a host policy can forbid outright,
 * whatever the process holds. `forbidden` is null, or the reason a probe
 * found: one run as root with every capability the feature needs, refused all
 * the same (a sandbox or security module, not a missing privilege or kernel
 * option). Then the test skips with that reason under `CI=true` too: CI can't
 * grant what the host itself refuses. Otherwise `missing` decides, as in
 * skipUnless.
 */
export function skipUnlessPermitted(
  missing: string | null,
  forbidden: string | null,
  name: string,
  fn: TestFn,
  options: TestOptions = {},
): void {
  if (forbidden !== null) skip(name, `forbidden by this host: ${forbidden}`);
  else skipUnless(missing, name, fn, options);
}
