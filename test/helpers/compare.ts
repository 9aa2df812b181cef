import assert from 'node:assert/strict';

/** Asserts |a - b| <= atol + rtol·|b| elementwise, reporting the worst element. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (err > worstErr) {
      worstErr = err;
      worst = i;
    }
  }
  assert.ok(worst < 0, `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]}`);
}
