/**
 * The differential fuzzer's fixed-seed slice: random programs over every op family and dtype
 * (test/fuzz/gen-helpers.ts), each run eagerly fused, unfused, jitted and under storage-buffer
 * limits 8, 10 and 16 against the float64 interpreter; every fourth a gradient program checked by
 * finite differences. A failure prints the shrunk program as code. `npm run fuzz -- --n 10000
 * --seed S` runs it long.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getDevice } from '../../index.ts';
import { fuzz, KNOWN_FAILURES } from './check-helpers.ts';

test('16 random programs (4 gradient programs) agree with the float64 interpreter in every mode', async () => {
  const f16 = (await getDevice()).caps.f16;
  const res = await fuzz({ n: 16, seed: 20261201, f16 });
  if (res.known.length) console.log(`fuzz: ${res.known.length} known failures (${KNOWN_FAILURES.map((k) => k.issue).join('; ')}):\n  ${res.known.join('\n  ')}`);
  assert.is(res.programs, 16);
  assert.ok(res.runs >= 16 * 4, `runs ${res.runs}`);
  assert.equal(res.failures, [], res.failures.join('\n\n'));
});

test.run();
