/** A stored stack stops here (about 60 frames); the head is kept: the frames nearest the throw. */
export const MAX_STACK_CHARS = 8_192;
const MAX_CAUSES = 3;

/**
 * The stack frames of a failed attempt's error, as job_attempts keeps them:
 * frames only (the message is stored beside it and is shown with it, so any
 * data a message carries is not copied a second time), paths relative to the
 * deployment's directory (`/srv/app/apps/x/src/y.ts:10` → `apps/x/src/y.ts:10`,
 * `file://` dropped), each `cause` as `caused by <Name>` and its frames, capped
 * at MAX_STACK_CHARS. Null for anything without a stack.
 */
export function errorStackOf(error: unknown, root: string): string | null {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth <= MAX_CAUSES; depth++) {
    const frames = framesOf(current, root);
    if (depth > 0) parts.push(`caused by ${current.name}`);
    if (frames) parts.push(frames);
    current = current.cause;
  }
  if (parts.length === 0 || (parts.length === 1 && !parts[0])) return null;
  const stack = parts.join('\n');
  return stack.length > MAX_STACK_CHARS ? `${stack.slice(0, stack.lastIndexOf('\n', MAX_STACK_CHARS))}\n    … (cut at ${MAX_STACK_CHARS} characters)` : stack;
}

function framesOf(error: Error, root: string): string {
  const stack = typeof error.stack === 'string' ? error.stack : '';
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return stack
    .split('\n')
    .filter((line) => /^\s+at\s/.test(line))
    .map((line) => line.replaceAll('file://', '').replaceAll(prefix, ''))
    .join('\n');
}
