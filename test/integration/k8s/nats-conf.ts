/**
 * A reader for the subset of the nats-server configuration format used in k8s/base/nats:
 * maps ({}), arrays ([]), "quoted" and 'quoted' strings, bare words, numbers, booleans,
 * $VARIABLE references (kept as { $var: NAME }), # and // comments, `include <file>`.
 * Plus NATS subject matching (*, >) and pattern containment, to reason about permissions.
 */
export type ConfValue = string | number | boolean | { $var: string } | ConfValue[] | ConfMap;
export interface ConfMap {
  [key: string]: ConfValue;
}

export function parseNatsConf(text: string, include: (path: string) => string = noIncludes): ConfMap {
  return new Parser(text, include).document();
}

function noIncludes(path: string): string {
  throw new Error(`include ${path}: no include resolver given`);
}

class Parser {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly include: (path: string) => string,
  ) {}

  document(): ConfMap {
    const map = this.entries(undefined);
    return map;
  }

  private fail(msg: string): never {
    const line = this.s.slice(0, this.i).split('\n').length;
    throw new Error(`nats.conf line ${line}: ${msg}`);
  }

  /** Skips spaces, newlines (when allowed), commas and comments. */
  private skip(newlines = true, commas = true): void {
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) return;
      if (c === ' ' || c === '\t' || c === '\r' || (newlines && c === '\n') || (commas && c === ',') || (commas && c === ';')) {
        this.i++;
      } else if (c === '#' || (c === '/' && this.s[this.i + 1] === '/')) {
        while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++;
      } else return;
    }
  }

  private entries(close: string | undefined): ConfMap {
    const map: ConfMap = {};
    for (;;) {
      this.skip();
      const c = this.s[this.i];
      if (c === undefined) {
        if (close) this.fail(`missing "${close}"`);
        return map;
      }
      if (c === close) {
        this.i++;
        return map;
      }
      const key = this.key();
      if (key === 'include') {
        this.skip(false, false);
        const path = this.scalarText();
        Object.assign(map, parseNatsConf(this.include(path), this.include));
        continue;
      }
      this.skip(false, false);
      if (this.s[this.i] === ':' || this.s[this.i] === '=') this.i++;
      this.skip(false, false);
      map[key] = this.value();
    }
  }

  private key(): string {
    const c = this.s[this.i];
    if (c === '"' || c === "'") return this.quoted();
    const m = /^[A-Za-z0-9_$.\-]+/.exec(this.s.slice(this.i));
    if (!m) this.fail(`expected a key, found "${c}"`);
    this.i += m[0].length;
    return m[0];
  }

  private quoted(): string {
    const q = this.s[this.i++];
    let out = '';
    while (this.s[this.i] !== q) {
      if (this.i >= this.s.length) this.fail('unterminated string');
      if (this.s[this.i] === '\\' && q === '"') {
        this.i++;
        const e = this.s[this.i++];
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
      } else out += this.s[this.i++];
    }
    this.i++;
    return out;
  }

  /** A bare scalar runs to the end of the line, a comma, "]" or "}" (or a comment). */
  private scalarText(): string {
    const c = this.s[this.i];
    if (c === '"' || c === "'") return this.quoted();
    const m = /^[^\n,\]}#]*/.exec(this.s.slice(this.i))!;
    let text = m[0];
    const slashes = text.indexOf('//');
    if (slashes >= 0 && !/^[a-z-]+:\/\//.test(text)) text = text.slice(0, slashes);
    this.i += text.length;
    return text.trim();
  }

  private value(): ConfValue {
    const c = this.s[this.i];
    if (c === '{') {
      this.i++;
      return this.entries('}');
    }
    if (c === '[') {
      this.i++;
      const arr: ConfValue[] = [];
      for (;;) {
        this.skip();
        if (this.s[this.i] === ']') {
          this.i++;
          return arr;
        }
        if (this.i >= this.s.length) this.fail('missing "]"');
        arr.push(this.value());
      }
    }
    if (c === '"' || c === "'") return this.quoted();
    const text = this.scalarText();
    if (text === '') this.fail('expected a value');
    if (text.startsWith('$')) return { $var: text.slice(1) };
    if (/^(true|yes|on)$/i.test(text)) return true;
    if (/^(false|no|off)$/i.test(text)) return false;
    if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
    return text;
  }
}

/** Does a subject (no wildcards) match a NATS pattern (with * and >)? */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** Is every subject matched by `inner` also matched by `outer`? */
export function patternWithin(inner: string, outer: string): boolean {
  const a = inner.split('.');
  const b = outer.split('.');
  for (let i = 0; i < b.length; i++) {
    if (b[i] === '>') return a.length > i;
    if (i >= a.length) return false;
    if (a[i] === '>') return false;
    if (b[i] === '*') continue;
    if (a[i] === '*' || a[i] !== b[i]) return false;
  }
  return a.length === b.length;
}

export interface NatsUser {
  user: string;
  password: ConfValue;
  account: string;
  publishAllow: string[];
  publishDeny: string[];
  subscribeAllow: string[];
  subscribeDeny: string[];
}

function strings(v: ConfValue | undefined): string[] {
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.map((x) => String(x));
  throw new Error(`expected a subject list, got ${JSON.stringify(v)}`);
}

function permissionLists(v: ConfValue | undefined): { allow: string[]; deny: string[] } {
  if (v === undefined) return { allow: [], deny: [] };
  if (typeof v === 'string' || Array.isArray(v)) return { allow: strings(v), deny: [] };
  const m = v as ConfMap;
  return { allow: strings(m.allow), deny: strings(m.deny) };
}

/** Users of every account, with their publish/subscribe permissions. */
export function natsUsers(conf: ConfMap): NatsUser[] {
  const out: NatsUser[] = [];
  const accounts = (conf.accounts ?? {}) as ConfMap;
  for (const [account, def] of Object.entries(accounts)) {
    for (const u of ((def as ConfMap).users ?? []) as ConfMap[]) {
      const perms = (u.permissions ?? {}) as ConfMap;
      const pub = permissionLists(perms.publish);
      const sub = permissionLists(perms.subscribe);
      out.push({
        user: String(u.user),
        password: u.password,
        account,
        publishAllow: pub.allow,
        publishDeny: pub.deny,
        subscribeAllow: sub.allow,
        subscribeDeny: sub.deny,
      });
    }
  }
  return out;
}

/** What nats-server decides for a publish: allowed by some allow entry (or no allow list) and by no deny entry. */
export function canPublish(u: NatsUser, subject: string): boolean {
  const allowed = u.publishAllow.length === 0 || u.publishAllow.some((p) => subjectMatches(p, subject));
  return allowed && !u.publishDeny.some((p) => subjectMatches(p, subject));
}

export function canSubscribe(u: NatsUser, subject: string): boolean {
  const allowed = u.subscribeAllow.length === 0 || u.subscribeAllow.some((p) => subjectMatches(p, subject));
  return allowed && !u.subscribeDeny.some((p) => subjectMatches(p, subject));
}
