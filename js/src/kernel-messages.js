// Kernel → browser: which handler each custom message goes to. A table keyed by the message
// names of bridge.js; a type this front end does not know (a newer kernel) is ignored, never an
// error, and a handler for a name bridge.js does not define is a programming error caught at once.

import { KERNEL_TO_BROWSER } from "./bridge.js";

/** @typedef {(DataView|Uint8Array|ArrayBuffer)[]} Buffers */
/** @typedef {(msg: any, buffers: Buffers|undefined) => void} KernelHandler */

/**
 * Make the `msg:custom` listener that hands each kernel message to its handler.
 * @param {Record<string, KernelHandler>} handlers keyed by bridge.js KERNEL_TO_BROWSER names
 * @returns {(msg: unknown, buffers?: Buffers) => void}
 */
export function kernelDispatcher(handlers) {
  const known = new Set(KERNEL_TO_BROWSER);
  const table = new Map(Object.entries(handlers));
  for (const name of table.keys()) {
    if (!known.has(name)) throw new Error(`"${name}" is not a kernel → browser message (bridge.js)`);
  }
  return (msg, buffers) => {
    if (!msg || typeof msg !== "object") return;
    const handler = table.get(/** @type {{type: string}} */ (msg).type);
    if (handler) handler(msg, buffers);
  };
}
