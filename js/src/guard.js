// Every callback the view hands to the page, the model or a timer runs through a guard, so an
// exception (thrown, or a rejected promise) reaches the view's error banner and the console
// instead of vanishing inside a browser or anywidget callback (DESIGN.md, STYLE.md: "errors in
// callbacks vanish unless you surface them").

/** @typedef {<T extends unknown[]>(fn: (...a: T) => unknown) => (...a: T) => void} Guard */

/**
 * Make a guard that reports every error of the functions it wraps to `onError`.
 * @param {(e: unknown) => void} onError
 * @returns {Guard}
 */
export function makeGuard(onError) {
  return (fn) =>
    (...args) => {
      try {
        const r = /** @type {any} */ (fn(...args));
        if (r && typeof r.then === "function") r.catch((/** @type {unknown} */ e) => onError(e));
      } catch (e) {
        onError(e);
      }
    };
}
