/** What a test reads of an HTTP answer: the status, its content type and headers, the text, and the body parsed when it is JSON. */
export interface HttpAnswer {
  status: number;
  type: string;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  text: string;
}

/** Sends the request as a client does and reads the whole answer. */
export async function fetchAnswer(url: string, init: RequestInit): Promise<HttpAnswer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, json, text };
}

/** A call with `headers` and, when given, `body` as JSON. */
export function httpCall(url: string, method: string, headers: Record<string, string> = {}, body?: unknown): Promise<HttpAnswer> {
  return fetchAnswer(url, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
