// The totals line: tokens and cost so far, and how full the model's context window is (the
// `totals` trait, from EventLog.totals() in the kernel). Per-turn figures are in the timeline's
// hover. Pure wording (`totalsText`) plus one element (test hook `totals`).

import { h } from "./dom.js";

/** @param {unknown} v */
const n = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/**
 * The line's text and its tooltip; "" when nothing was billed yet.
 * @param {Record<string, any>} t the `totals` trait
 * @returns {{text: string, title: string, fill: number|null}}
 */
export function totalsText(t) {
  const input = n(t.input_tokens);
  const output = n(t.output_tokens);
  const total = n(t.total_tokens) ?? (input !== null && output !== null ? input + output : null);
  if (!total) return { text: "", title: "", fill: null };
  const parts = [`${total.toLocaleString("en-US")} tokens`];
  const cost = n(t.cost_usd);
  parts.push(cost === null ? "cost unknown for this model" : `$${cost < 0.01 ? cost.toFixed(4) : cost.toFixed(2)}`);
  const context = n(t.context_tokens);
  const window = n(t.context_window);
  let fill = null;
  if (context !== null && window) {
    fill = Math.min(1, context / window);
    parts.push(`context ${Math.round(fill * 100)}% of ${window.toLocaleString("en-US")}`);
  }
  const title = [
    `So far: ${input ?? "–"} input and ${output ?? "–"} output tokens${n(t.responses) !== null ? ` over ${t.responses} responses` : ""}.`,
    context !== null ? `The last response read ${context} tokens of conversation (each response reads it all again).` : "",
    "Per turn: hover a turn in the timeline. In Python: w.events.usage_dataframe().",
  ].filter(Boolean).join("\n");
  return { text: parts.join(" · "), title, fill };
}

export class TotalsLine {
  constructor() {
    this.bar = h("span", { class: "rtnb-totals-fill" });
    this.text = h("span", { class: "rtnb-totals-text" });
    this.el = h("div", { rtnb: "totals", class: "rtnb-totals", hidden: true }, this.text, h("span", { class: "rtnb-totals-bar" }, this.bar));
  }

  /** @param {Record<string, any>} totals */
  render(totals) {
    const { text, title, fill } = totalsText(totals || {});
    this.el.hidden = !text;
    this.text.textContent = text;
    this.el.title = title;
    this.bar.style.width = `${Math.round((fill ?? 0) * 100)}%`;
    this.bar.parentElement && (this.bar.parentElement.hidden = fill === null);
    this.el.dataset.fill = fill === null ? "" : fill.toFixed(3);
  }
}
