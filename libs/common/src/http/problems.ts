import { ProblemException } from './problem-json.filter.js';

export { ProblemException };

const BASE = 'https://metronome.dev/problems';

/** Problems the HTTP APIs answer with; `type` URIs are stable and documented in docs/control-plane.md. */
export const problems = {
  unauthorized: (detail = 'Sign in with a bearer token or an API key') => new ProblemException(401, `${BASE}/unauthorized`, 'Unauthorized', detail),
  forbidden: (detail = 'Your role may not do this') => new ProblemException(403, `${BASE}/forbidden`, 'Forbidden', detail),
  notFound: (what: string) => new ProblemException(404, `${BASE}/not-found`, 'Not Found', `${what} was not found`),
  conflict: (detail: string) => new ProblemException(409, `${BASE}/conflict`, 'Conflict', detail),
  unprocessable: (detail: string, errors?: string[]) =>
    new ProblemException(422, `${BASE}/unprocessable`, 'Unprocessable Content', detail, errors ? { errors } : {}),
  tooMany: (retryAfter: number, detail = `Slow down; retry after ${retryAfter} s`) =>
    new ProblemException(429, `${BASE}/rate-limited`, 'Too Many Requests', detail, { retryAfter }),
  tooLarge: (limit: number) => new ProblemException(413, `${BASE}/too-large`, 'Content Too Large', `The request body exceeds ${limit} bytes`),
  /** A platform credential on a route about one tenant, without naming the tenant. */
  tenantRequired: () =>
    new ProblemException(
      400,
      `${BASE}/tenant-required`,
      'Tenant required',
      'This route acts on one tenant: a system-admin or service credential names it in the X-Act-For-Company header',
    ),
  badRequest: (detail: string) => new ProblemException(400, `${BASE}/bad-request`, 'Bad Request', detail),
  invalidCursor: () => new ProblemException(400, `${BASE}/invalid-cursor`, 'Invalid cursor', 'cursor must be the nextCursor of a previous page'),
};
