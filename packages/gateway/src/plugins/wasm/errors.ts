/**
 * The one error the WASM host throws out of a hook. `failure` tells a plugin failure (trap, fuel,
 * deadline, bad output: the instance was discarded) from a plugin that answered with an error on
 * purpose (`error` in its output): both reach the pipeline as throws, the distinction is for logs
 * and metrics.
 */
export class WasmPluginError extends Error {
  readonly plugin: string;
  readonly hook: string;
  readonly reason: string;
  readonly failure: boolean;

  constructor(plugin: string, hook: string, reason: string, failure: boolean, options?: { cause?: unknown }) {
    super(failure ? `wasm plugin "${plugin}" failed in ${hook}: ${reason}` : `wasm plugin "${plugin}" ${hook} returned an error: ${reason}`, options);
    this.name = 'WasmPluginError';
    this.plugin = plugin;
    this.hook = hook;
    this.reason = reason;
    this.failure = failure;
  }
}

/** The plugin's output was valid JSON of the wrong shape. A plugin failure. */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}
