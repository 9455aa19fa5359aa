// Small helpers the view modules share: ids, clocks, timeouts, number formatting.

export function randomId() {
  const c = /** @type {any} */ (globalThis).crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return `v${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}

/** Epoch milliseconds on the same clock as the capture timestamps. */
export function nowEpochMs() {
  return performance.timeOrigin + performance.now();
}

/**
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what
 * @returns {Promise<T>}
 */
export function withTimeout(promise, ms, what) {
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, timeout]).finally(() => clearTimeout(timer)));
}

/** @param {unknown} e */
export function errorText(e) {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** @param {unknown} ms */
export function fmtMs(ms) {
  const x = Number(ms);
  if (!Number.isFinite(x)) return "–";
  return x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`;
}

/** @param {unknown} v */
export function num(v) {
  const x = Number(v);
  return Number.isFinite(x) ? x : 0;
}
