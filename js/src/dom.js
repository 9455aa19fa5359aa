// DOM building, shared by every view module. Its own module so that the UI modules (controls,
// meters, table, transcript) import it without importing each other (no import cycles).

/**
 * Create an element. `attrs`: `class`, `rtnb` (the `data-rtnb` test hook), `hidden`,
 * `data-*`, any attribute; `true` sets an empty attribute, `null`/`false`/`undefined` skip it.
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = String(v);
    else if (k === "rtnb") el.dataset.rtnb = String(v);
    else if (k === "hidden") el.hidden = true;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}
