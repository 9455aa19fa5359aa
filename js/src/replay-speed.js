// The words and numbers of a replay (RealtimeWidget.replay), kept apart from the DOM so node tests
// read them: the speed choices, the `speed` trait (null: every row at once) to and from the
// selector's value, and the status line's "replay of <file>".

/** The speed selector's choices: [value sent as `set_speed`'s speed, label]. */
export const SPEEDS = /** @type {const} */ ([
  [1, "1×"],
  [2, "2×"],
  [4, "4×"],
  [null, "all"],
]);

/**
 * The selector's value for a `speed` trait (null or not finite: "all").
 * @param {unknown} speed
 * @returns {string}
 */
export function speedOption(speed) {
  return typeof speed === "number" && Number.isFinite(speed) && speed > 0 ? String(speed) : "all";
}

/**
 * The speed to ask the kernel for, from a selector value (null: every remaining row at once).
 * @param {string} value
 * @returns {number|null}
 */
export function parseSpeed(value) {
  const n = Number(value);
  return value !== "all" && Number.isFinite(n) && n > 0 ? n : null;
}

/**
 * What the status line says for a replay.
 * @param {string} source the `replay_source` trait (a file name)
 */
export function replayLabel(source) {
  return `replay of ${source || "a recording"}`;
}
