import type { ZodError } from 'zod';
import { formatPath } from '../config/env-refs.js';

/** One problem with a request's input, at a JSON path (`plugins[2].config.limit`). */
export interface AdminIssue { path: string; message: string }

/**
 * An admin API answer that is not a success: a status, a stable code and a message a person can
 * act on. Validation failures carry one issue per bad field, each naming its JSON path.
 */
export class AdminError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: AdminIssue[] | undefined;

  constructor(status: number, code: string, message: string, issues?: AdminIssue[]) {
    super(message);
    this.name = 'AdminError';
    this.status = status;
    this.code = code;
    this.issues = issues;
  }

  toBody(): { error: { code: string; message: string; issues?: AdminIssue[] } } {
    return { error: { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) } };
  }
}

export const notFound = (what: string): AdminError => new AdminError(404, 'not_found', what);
export const badRequest = (message: string, issues?: AdminIssue[]): AdminError => new AdminError(400, 'invalid_request', message, issues);
export const conflict = (message: string): AdminError => new AdminError(409, 'conflict', message);

/** zod's issues as `{path, message}` with paths as people read them, under an optional prefix. */
export function issuesOf(err: ZodError, prefix: ReadonlyArray<string | number> = []): AdminIssue[] {
  return err.issues.map((i) => ({ path: formatPath([...prefix, ...(i.path as Array<string | number>)]), message: i.message }));
}

export function validationError(err: ZodError, prefix: ReadonlyArray<string | number> = []): AdminError {
  const issues = issuesOf(err, prefix);
  return badRequest(`invalid input: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
}
