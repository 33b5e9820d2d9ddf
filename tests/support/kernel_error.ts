/**
 * One assertion for the bad-input tests: a call throws (synchronously) a
 * KernelError with this errno name, and, when given, a message matching a
 * pattern.
 *
 * @module
 */
import assert from "node:assert/strict";
import { KernelError } from "../../src/mod.ts";

/** Asserts that `fn` throws a KernelError with errno name `code` (and a message matching `pattern`); returns it. */
export function throwsCode(fn: () => unknown, code: string, pattern?: RegExp): KernelError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof KernelError, `not a KernelError: ${e}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return e;
  }
  assert.fail(`expected a KernelError ${code}`);
}
