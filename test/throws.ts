// The one "expect this to throw that" helper of the host tests: the error class and every
// message pattern, with the error returned for further checks.
import { expect } from 'vitest';

/** Expect `fn` to throw `cls` with a message matching every pattern; returns the error. */
export function expectThrow<E extends Error>(fn: () => unknown, cls: abstract new (...a: never[]) => E, ...patterns: RegExp[]): E {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected a ${cls.name}`).toBeInstanceOf(cls);
  for (const p of patterns) expect((err as Error).message).toMatch(p);
  return err as E;
}
