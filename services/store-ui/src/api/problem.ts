/** RFC 9457 problem details, as every service answers errors. */
export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** A request the server (or the network) refused; `problem` carries its explanation. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly retryAfterSeconds: number | null;

  constructor(status: number, problem: Problem, retryAfterSeconds: number | null = null) {
    super(problem.detail ?? problem.title ?? `Request failed (${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** The last segment of the problem type, e.g. `out-of-stock`, or '' for `about:blank`. */
  get code(): string {
    const type = this.problem.type ?? '';
    if (type === '' || type === 'about:blank') return '';
    return type.split('/').pop() ?? '';
  }

  get fieldErrors(): FieldError[] {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

/** Words a person can act on, for any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return 'The store cannot be reached. Check your connection and try again.';
    if (error.status === 429) {
      const wait = error.retryAfterSeconds;
      return `Too many requests. Please wait ${wait ? `${wait} s` : 'a moment'} and try again.`;
    }
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}

/** Field errors keyed by field name, for forms. */
export function fieldErrorMap(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const map: Record<string, string> = {};
  for (const { field, message } of error.fieldErrors) {
    if (!(field in map)) map[field] = message;
  }
  return map;
}
