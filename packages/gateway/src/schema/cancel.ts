/**
 * What a request's "the client went away" signal must offer. AbortSignal has it; so does the
 * transport's ClientGoneSignal, which exists because building an AbortController per request cost
 * 3% of the gateway's CPU under load (its EventTarget machinery), for an event that rarely fires.
 * undici accepts any object with these members as a request `signal`.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** A CancelSignal with one or two plain listeners and nothing allocated until it fires. */
export class ClientGoneSignal implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  #listeners: Array<() => void> | undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    (this.#listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const l = this.#listeners;
    if (!l) return;
    const i = l.indexOf(listener);
    if (i >= 0) l.splice(i, 1);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const err = new Error('the client closed the connection');
    err.name = 'AbortError';
    this.reason = err;
    const l = this.#listeners;
    this.#listeners = undefined;
    if (l) for (const fn of l) fn();
  }
}
