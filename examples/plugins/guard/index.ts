/**
 * guard: refuses prompts that match a configured list of patterns. A match short-circuits the
 * LLM pre-hook with a 400 error of type `guard_blocked` and `allow_fallbacks: false`, so no
 * provider and no fallback is ever called for a blocked prompt.
 */
import type { LLMError, LLMRequest, Plugin, RequestContext } from '../../../packages/gateway/src/index.js';

interface GuardConfig {
  /** Plain strings match case-insensitively anywhere; "/source/flags" strings are regular expressions. */
  patterns?: string[];
  /** Check only user messages (default) or every message, system prompts included. */
  roles?: 'user' | 'all';
  message?: string;
  status_code?: number;
}

interface Rule { source: string; test(text: string): boolean }

function compile(pattern: string): Rule {
  const re = /^\/(.+)\/([a-z]*)$/s.exec(pattern);
  if (re) {
    const regex = new RegExp(re[1] as string, (re[2] as string).replace(/[gy]/g, ''));
    return { source: pattern, test: (t) => regex.test(t) };
  }
  const needle = pattern.toLowerCase();
  return { source: pattern, test: (t) => t.toLowerCase().includes(needle) };
}

function textsOf(req: LLMRequest, roles: 'user' | 'all'): string[] {
  if (typeof req.input === 'string') return [req.input];
  if (!Array.isArray(req.input)) return [];
  const out: string[] = [];
  for (const item of req.input as unknown[]) {
    if (typeof item === 'string') { out.push(item); continue; }
    const m = item as { role?: string; content?: unknown };
    if (!m || (roles === 'user' && m.role !== 'user')) continue;
    if (typeof m.content === 'string') out.push(m.content);
    else if (Array.isArray(m.content)) {
      for (const p of m.content as Array<{ type?: string; text?: unknown }>) if (p?.type === 'text' && typeof p.text === 'string') out.push(p.text);
    }
  }
  return out;
}

let rules: Rule[] = [];
let settings: Required<Omit<GuardConfig, 'patterns'>> = { roles: 'user', message: 'Request blocked by guard', status_code: 400 };

/** Validates the configuration once, at load: a bad pattern stops the gateway from starting. */
export function init(config: GuardConfig): void {
  if (!Array.isArray(config.patterns) || config.patterns.length === 0) throw new Error('config.patterns must be a non-empty array of strings');
  rules = config.patterns.map((p, i) => {
    if (typeof p !== 'string' || p === '') throw new Error(`config.patterns[${i}] must be a non-empty string`);
    try { return compile(p); } catch (e) { throw new Error(`config.patterns[${i}] is not a valid regular expression: ${(e as Error).message}`); }
  });
  settings = { roles: config.roles ?? 'user', message: config.message ?? settings.message, status_code: config.status_code ?? 400 };
}

export const name = 'guard';

export function preLLMHook(ctx: RequestContext, req: LLMRequest) {
  for (const text of textsOf(req, settings.roles)) {
    const hit = rules.find((r) => r.test(text));
    if (!hit) continue;
    ctx.setValue('guard.blocked', hit.source);
    const error: LLMError = {
      status_code: settings.status_code,
      error: { message: settings.message, type: 'guard_blocked', code: 'guard_blocked' },
      allow_fallbacks: false,
    };
    return { shortCircuit: { error } };
  }
  return undefined;
}

// Checked by the type-checker only: the module's exports form a Plugin.
const _shape: Plugin = { name, preLLMHook };
void _shape;
