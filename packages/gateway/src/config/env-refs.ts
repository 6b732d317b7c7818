/**
 * Bifrost's `"env.NAME"` convention: any string value in the config of that form is read from the
 * environment. A missing variable is an error naming both the variable and where it was used.
 */
export class MissingEnvError extends Error {}

const ENV_REF = /^env\.([A-Za-z_][A-Za-z0-9_]*)$/;

export function resolveEnvRefs(value: unknown, env: NodeJS.ProcessEnv, path: string[] = []): unknown {
  if (typeof value === 'string') {
    const m = ENV_REF.exec(value);
    if (!m) return value;
    const name = m[1] as string;
    const v = env[name];
    if (v === undefined) throw new MissingEnvError(`${formatPath(path)}: environment variable ${name} is not set (the config says "${value}")`);
    return v;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnvRefs(v, env, [...path, String(i)]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // Plugin configs are the plugin's business: `env.X` there is passed through untouched.
      out[k] = path.length === 2 && path[0] === 'plugins' && k === 'config' ? v : resolveEnvRefs(v, env, [...path, k]);
    }
    return out;
  }
  return value;
}

/** `providers.openai.keys[0].value` style, as people read JSON paths. */
export function formatPath(path: ReadonlyArray<string | number | symbol>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number' || /^\d+$/.test(String(p))) out += `[${String(p)}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}
