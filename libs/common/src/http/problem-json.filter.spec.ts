import { describe, expect, it } from '@jest/globals';
import { ProblemJsonFilter } from './problem-json.filter.js';

/** What TypeORM throws for a failed query: pg's fields copied on, and the pg error kept as driverError. */
function queryFailed(code: string): Error {
  return Object.assign(new Error('query failed'), { code, driverError: Object.assign(new Error('pg'), { code }) });
}

describe('ProblemJsonFilter', () => {
  const filter = new ProblemJsonFilter();

  it("answers text Postgres cannot store (a NUL byte, \\u0000 in jsonb) as the client's 400", () => {
    for (const code of ['22021', '22P05']) {
      expect(filter.toProblem(queryFailed(code))).toMatchObject({ status: 400, title: 'Bad Request', detail: expect.stringMatching(/NUL/) });
    }
    expect(filter.toProblem({ driverError: { code: '22021' } })).toMatchObject({ status: 400 });
  });

  it('keeps any other database error a 500 that says nothing of it', () => {
    const problem = filter.toProblem(queryFailed('23505'));
    expect(problem).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'An unexpected error occurred' });
  });
});
