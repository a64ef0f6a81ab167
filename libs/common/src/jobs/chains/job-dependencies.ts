/** A dependency declaration would close a loop: `path` is the cycle, first job repeated at the end. */
export class DependencyCycleError extends Error {
  constructor(readonly path: string[]) {
    super(`job dependency cycle refused: ${path.join(' -> ')}`);
    this.name = 'DependencyCycleError';
  }
}

/** job -> the jobs it depends on (its children in a flow). */
const GRAPH = new Map<string, Set<string>>();

/** The first cycle in `graph`, or null. */
export function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] | null {
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done
  const stack: string[] = [];
  const visit = (job: string): string[] | null => {
    state.set(job, 1);
    stack.push(job);
    for (const dep of graph.get(job) ?? []) {
      const s = state.get(dep);
      if (s === 1) return [...stack.slice(stack.indexOf(dep)), dep];
      if (s === undefined) {
        const found = visit(dep);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(job, 2);
    return null;
  };
  for (const job of [...graph.keys()].sort()) {
    if (!state.has(job)) {
      const found = visit(job);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Records that `job` depends on `dependsOn` (they run first, as its children).
 * With `check` (the default) a declaration that closes a cycle is refused with
 * a DependencyCycleError and not recorded. @JobHandler's `dependsOn` records
 * without checking; the job runtime checks the whole graph at start.
 */
export function declareJobDependencies(job: string, dependsOn: readonly string[], check = false): void {
  const before = GRAPH.get(job);
  const next = new Set([...(before ?? []), ...dependsOn]);
  GRAPH.set(job, next);
  if (check) {
    const cycle = findCycle(GRAPH);
    if (cycle) {
      if (before) GRAPH.set(job, before);
      else GRAPH.delete(job);
      throw new DependencyCycleError(cycle);
    }
  }
}

export function jobDependencies(job: string): readonly string[] {
  return [...(GRAPH.get(job) ?? [])];
}

/** Throws a DependencyCycleError when the declared graph has a cycle. */
export function assertNoDependencyCycle(): void {
  const cycle = findCycle(GRAPH);
  if (cycle) throw new DependencyCycleError(cycle);
}

/** Forgets declarations (tests). */
export function clearJobDependencies(jobs?: string[]): void {
  if (!jobs) GRAPH.clear();
  else for (const j of jobs) GRAPH.delete(j);
}
