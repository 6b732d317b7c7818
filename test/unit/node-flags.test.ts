import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { NODE_FLAGS, withNodeFlags } from '../../packages/gateway/src/cli/node-flags.js';

const root = new URL('../../', import.meta.url);

test('node flags: the gatehouse shebang and npm start pass the same V8 flags as cluster workers', () => {
  const shebang = readFileSync(new URL('packages/gateway/src/cli/main.ts', root), 'utf8').split('\n')[0]!;
  assert.equal(shebang, `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
  const start = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts.start as string;
  assert.ok(start.startsWith(`node ${NODE_FLAGS.join(' ')} `), start);
  // A flag the operator set wins; ours are added otherwise.
  assert.deepEqual(withNodeFlags(['--max-semi-space-size=32', '--inspect']), ['--max-semi-space-size=32', '--inspect', ...NODE_FLAGS.slice(1)]);
  assert.deepEqual(withNodeFlags([]), [...NODE_FLAGS]);
  // The operator's --memory-reducer overrides our --no-memory-reducer.
  assert.ok(NODE_FLAGS.includes('--no-memory-reducer'));
  const kept = withNodeFlags(['--memory-reducer']);
  assert.ok(kept.includes('--memory-reducer') && !kept.includes('--no-memory-reducer'), kept.join(' '));
});
