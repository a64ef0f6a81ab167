import { realpathSync } from 'node:fs';
import { redactSecretText } from '../../audit/redact-secrets.js';

/** A stored stack stops here (about 60 frames); the head is kept: the frames nearest the throw. */
export const MAX_STACK_CHARS = 8_192;
const MAX_CAUSES = 3;

const FRAME = /^\s+at\s/;
/** Everything up to the first node_modules/ of an absolute path (a hoisted or symlinked install outside the service's directory). */
const TO_NODE_MODULES = /(^|[\s(])(?:[A-Za-z]:)?[\\/](?:[^\s()\\/]+[\\/])*?node_modules[\\/]/g;
/** An absolute path left after the above (outside the service's directory): only its file name is kept. */
const ABSOLUTE = /(^|[\s(])(?:[A-Za-z]:)?[\\/](?:[^\s()\\/]+[\\/])+(?=[^\s()\\/]+)/g;

/**
 * The stack frames of a failed attempt's error, as job_attempts keeps them:
 * frames only (the message is stored beside it and is shown with it, so any
 * data a message carries is not copied a second time), paths relative to the
 * deployment's directory (`/srv/app/apps/x/src/y.ts:10` → `apps/x/src/y.ts:10`,
 * `file://` dropped), a package outside it from its `node_modules/`, any other
 * absolute path as `…/<file>` (the host's layout is not recorded), credentials
 * that still show (a `password=` in an eval'd source name, a URL's user-info)
 * redacted, each `cause` as `caused by <Name>` and its frames, capped at
 * MAX_STACK_CHARS (the head is kept). Null for anything without a stack.
 * Called for failed attempts only: a success pays nothing.
 */
export function errorStackOf(error: unknown, root: string | readonly string[]): string | null {
  const prefixes = (typeof root === 'string' ? [root] : root).filter(Boolean).map((r) => (r.endsWith('/') ? r : `${r}/`));
  // The longest directory first, so a root nested in another is taken whole.
  prefixes.sort((a, b) => b.length - a.length);
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth <= MAX_CAUSES; depth++) {
    const frames = framesOf(current, prefixes);
    if (depth > 0) parts.push(`caused by ${current.name}`);
    if (frames) parts.push(frames);
    current = current.cause;
  }
  if (parts.length === 0 || (parts.length === 1 && !parts[0])) return null;
  const stack = redactSecretText(parts.join('\n'));
  if (stack.length <= MAX_STACK_CHARS) return stack;
  const cut = stack.lastIndexOf('\n', MAX_STACK_CHARS);
  return `${stack.slice(0, cut > 0 ? cut : MAX_STACK_CHARS)}\n    … (cut at ${MAX_STACK_CHARS} characters)`;
}

function framesOf(error: Error, prefixes: readonly string[]): string {
  const stack = typeof error.stack === 'string' ? error.stack : '';
  return stack
    .split('\n')
    .filter((line) => FRAME.test(line))
    .map((line) => {
      let out = line.replaceAll('file://', '');
      for (const prefix of prefixes) out = out.replaceAll(prefix, '');
      return out.replace(TO_NODE_MODULES, '$1node_modules/').replace(ABSOLUTE, '$1…/');
    })
    .join('\n');
}

/** The roots stack frames are stored relative to: the directory as given and, when it differs, with symlinks resolved. */
export function stackRootsOf(cwd: string): string[] {
  try {
    const real = realpathSync(cwd);
    return real === cwd ? [cwd] : [cwd, real];
  } catch {
    return [cwd];
  }
}
