//! One way to call the services through the gateway: JSON in and out, the bearer token when signed in
//! (refreshed once on a 401), and every failure turned into an `ApiError` carrying the problem+json body.

import * as session from '../auth/session';
import { ApiError, type Problem } from './problem';

export type Query = Record<string, string | number | boolean | null | undefined | readonly string[]>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Query;
  /** Sent as JSON, or as is when FormData. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Called with the response headers of a successful answer (e.g. to keep `X-Cart-Id`). */
  onHeaders?: (headers: Headers) => void;
}

export function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      for (const item of value as readonly string[]) params.append(name, item);
    } else {
      params.append(name, String(value));
    }
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function problemOf(response: Response): Promise<Problem> {
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      const body: unknown = await response.json();
      if (typeof body === 'object' && body !== null) return body as Problem;
    } catch {
      // fall through to a generic problem
    }
  }
  return { title: response.statusText || 'Error', status: response.status, detail: defaultDetail(response.status) };
}

function defaultDetail(status: number): string {
  if (status === 404) return 'Not found.';
  if (status === 413) return 'That is too large to upload.';
  if (status === 429) return 'Too many requests; please wait a moment.';
  if (status >= 500) return 'The store had a problem answering. Please try again.';
  return `The request failed (${status}).`;
}

function retryAfter(response: Response): number | null {
  const value = response.headers.get('retry-after');
  if (value === null) return null;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? seconds : null;
}

async function send(path: string, options: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...options.headers };
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) {
    body = options.body;
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  if (token !== null) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(withQuery(path, options.query), {
      method: options.method ?? 'GET',
      headers,
      body,
      signal: options.signal,
      credentials: 'same-origin',
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, { title: 'Network error', detail: 'The store cannot be reached.' });
  }
}

/** The raw successful response (after one token refresh on 401); throws `ApiError` otherwise. */
export async function requestResponse(path: string, options: RequestOptions = {}): Promise<Response> {
  const token = await session.validAccessToken();
  let response = await send(path, options, token);
  if (response.status === 401 && token !== null) {
    const renewed = await session.refresh();
    if (renewed !== null) response = await send(path, options, renewed);
  }
  if (!response.ok) {
    throw new ApiError(response.status, await problemOf(response), retryAfter(response));
  }
  options.onHeaders?.(response.headers);
  return response;
}

/** A JSON answer typed as `T` (or undefined for 204). */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await requestResponse(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}
