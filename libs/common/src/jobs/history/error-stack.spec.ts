import { errorStackOf, MAX_STACK_CHARS } from './error-stack.js';

const ROOT = '/srv/metronome';

function errorWith(stack: string, cause?: unknown): Error {
  const e = new Error('password=hunter2 rejected', cause === undefined ? undefined : { cause });
  e.stack = stack;
  return e;
}

describe('errorStackOf', () => {
  it('keeps the frames only, never the message, with the deployment directory and file:// dropped', () => {
    const e = errorWith(`Error: password=hunter2 rejected\n    at callApi (${ROOT}/apps/notifier/src/email.ts:10:5)\n    at file://${ROOT}/dist/main.js:3:1\n    at node:internal/process/task_queues:95:5`);
    expect(errorStackOf(e, ROOT)).toBe('    at callApi (apps/notifier/src/email.ts:10:5)\n    at dist/main.js:3:1\n    at node:internal/process/task_queues:95:5');
  });

  it('follows causes by name, and is null for what has no stack', () => {
    const cause = errorWith(`TypeError: socket said secret\n    at connect (${ROOT}/libs/net.ts:1:1)`);
    cause.name = 'TypeError';
    const e = errorWith(`Error: outer\n    at outer (${ROOT}/a.ts:2:2)`, cause);
    expect(errorStackOf(e, `${ROOT}/`)).toBe('    at outer (a.ts:2:2)\ncaused by TypeError\n    at connect (libs/net.ts:1:1)');
    expect(errorStackOf('a string', ROOT)).toBeNull();
    expect(errorStackOf(errorWith('Error: no frames'), ROOT)).toBeNull();
  });

  it('cuts a long stack at a frame boundary and says so', () => {
    const frames = Array.from({ length: 400 }, (_, i) => `    at frame${i} (${ROOT}/x.ts:${i}:1)`).join('\n');
    const stack = errorStackOf(errorWith(`Error: deep\n${frames}`), ROOT)!;
    expect(stack.length).toBeLessThanOrEqual(MAX_STACK_CHARS + 40);
    expect(stack).toMatch(/^    at frame0 \(x\.ts:0:1\)/);
    expect(stack).toMatch(/\n    … \(cut at 8192 characters\)$/);
    expect(stack.split('\n').slice(0, -1).every((l) => /^    at frame\d+ \(x\.ts:\d+:1\)$/.test(l))).toBe(true);
  });

  it('shortens packages outside the deployment to node_modules/, other absolute paths to their file name, and redacts credentials', () => {
    const e = errorWith([
      'Error: password=hunter2 rejected',
      `    at pull (/home/ci/.cache/shared/node_modules/pg/lib/client.js:5:1)`,
      `    at nested (${ROOT}/node_modules/a/node_modules/b/x.js:1:1)`,
      `    at /opt/vendor/plugins/hook.js:7:3`,
      `    at eval (eval at load (https://deploy:hunter2@cdn.example.com/m.js?token=abc123:1:1), <anonymous>:1:1)`,
      `    at login (${ROOT}/apps/x.ts:1:1) password=hunter2 Authorization: Bearer abcdefgh12345678`,
      `    at node:internal/process/task_queues:95:5`,
    ].join('\n'));
    const stack = errorStackOf(e, ['/elsewhere', ROOT])!;
    expect(stack.split('\n')).toEqual([
      '    at pull (node_modules/pg/lib/client.js:5:1)',
      '    at nested (node_modules/a/node_modules/b/x.js:1:1)',
      '    at …/hook.js:7:3',
      // (redactUrl takes a secret query value up to the next space.)
      '    at eval (eval at load (https://deploy:***@cdn.example.com/m.js?token=*** <anonymous>:1:1)',
      '    at login (apps/x.ts:1:1) password=[redacted] Authorization: Bearer [redacted]',
      '    at node:internal/process/task_queues:95:5',
    ]);
    expect(stack).not.toContain('hunter2');
    expect(stack).not.toMatch(/\((?:\/|[A-Z]:)/);
  });
});
