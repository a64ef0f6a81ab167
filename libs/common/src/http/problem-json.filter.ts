import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  ValidationPipe,
  type ExceptionFilter,
  type ValidationError,
} from '@nestjs/common';
import type { Request, Response } from 'express';

/** One invalid field of a request, as listed in a 400 problem's `errors`. */
export interface FieldProblem {
  field: string;
  messages: string[];
}

/** RFC 9457 problem details. Extension members sit beside the standard ones. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * An HTTP error carrying its own problem type and extension members, for
 * errors a client can act on ("document not found", "from must be before to").
 */
export class ProblemException extends HttpException {
  constructor(
    status: number,
    readonly problemType: string,
    title: string,
    detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super({ title, detail }, status);
  }
}

/** A request that failed class-validator: every bad field, not only the first. */
export class RequestValidationException extends BadRequestException {
  constructor(readonly problems: FieldProblem[]) {
    super('The request is invalid');
  }
}

function flatten(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** The ValidationPipe every API uses: DTO classes, transform, unknown fields rejected, all problems listed. */
export function problemValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    exceptionFactory: (errors) => new RequestValidationException(flatten(errors)),
  });
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * SQLSTATEs of text Postgres cannot store, which only a request's own values bring: 22021 (a NUL byte in
 * text, "invalid byte sequence for encoding") and 22P05 (\u0000 in jsonb). No DTO check can list every
 * field that reaches a text column, so the answer is made here: the client's 400, not a 500.
 */
const UNSTORABLE_TEXT = new Set(['22021', '22P05']);

/** A database error's SQLSTATE (pg's `code`, which TypeORM's QueryFailedError copies and keeps as `driverError`). */
function sqlStateOf(e: unknown): string | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const code = (e as { code?: unknown }).code ?? (e as { driverError?: { code?: unknown } }).driverError?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Renders every error of an HTTP handler as RFC 9457 application/problem+json.
 * Only HTTP: an error from a message handler is rethrown unchanged so the
 * JetStream host can still decide retry or dead-letter by its type. Unknown
 * errors become a 500 whose detail does not leak internals.
 */
@Catch()
export class ProblemJsonFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemJson');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const problem = this.toProblem(exception);
    problem.instance = req.originalUrl ?? req.url;
    if (res.headersSent) return;
    if (problem.status === 429 && typeof problem.retryAfter === 'number' && !res.getHeader('Retry-After')) res.setHeader('Retry-After', String(problem.retryAfter));
    res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }

  toProblem(exception: unknown): ProblemDetails {
    if (exception instanceof ProblemException) {
      const body = exception.getResponse() as { title: string; detail?: string };
      return { ...exception.extensions, type: exception.problemType, title: body.title, status: exception.getStatus(), detail: body.detail };
    }
    if (exception instanceof RequestValidationException) {
      return {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: exception.problems.map((p) => `${p.field}: ${p.messages.join(', ')}`).join('; ') || 'The request is invalid',
        errors: exception.problems,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      let detail: string | undefined;
      if (typeof body === 'string') detail = body;
      else if (body && typeof body === 'object') {
        const message = (body as { message?: unknown }).message;
        detail = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : undefined;
      }
      return { type: 'about:blank', title: TITLES[status] ?? HttpStatus[status] ?? 'Error', status, detail };
    }
    const sqlState = sqlStateOf(exception);
    if (sqlState && UNSTORABLE_TEXT.has(sqlState)) {
      return { type: 'about:blank', title: 'Bad Request', status: 400, detail: 'A value holds a character that cannot be stored: NUL (\\u0000). Remove it and send the request again.' };
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'An unexpected error occurred' };
  }
}
