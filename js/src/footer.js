// The footer: the stats line (the `stats` trait; test hook `stats`) and the environment check, a
// collapsed list of what this browser offers (secure context, microphone permission,
// AudioContext, comm round trip, ...), rendered only while open. Wording from status-panel.js.

import { h } from "./dom.js";
import { envRows, statsNodes } from "./status-panel.js";

/** @typedef {Omit<import("./status-panel.js").EnvFacts, "micPermission">} ViewFacts */

export class Footer {
  /**
   * @param {{signal: AbortSignal, guard: import("./guard.js").Guard, facts: () => ViewFacts}} opts
   *   `facts`: what the view knows now, for the environment check
   */
  constructor({ signal, guard, facts }) {
    this.signal = signal;
    this.facts = facts;
    this.micPermission = "unknown";
    this.statsEl = h("div", { rtnb: "stats", class: "rtnb-stats" });
    this.envBody = h("dl", { class: "rtnb-env-list" });
    this.env = /** @type {HTMLDetailsElement} */ (h("details", { class: "rtnb-env" }, h("summary", {}, "environment check"), this.envBody));
    this.el = h("footer", { class: "rtnb-footer" }, this.statsEl, this.env);
    this.env.addEventListener("toggle", guard(() => this.renderEnv()), { signal });
  }

  /**
   * @param {Record<string, any>} stats the `stats` trait
   * @param {number} rowsShown rows in this view's table
   */
  renderStats(stats, rowsShown) {
    this.statsEl.replaceChildren(...statsNodes(stats, rowsShown));
  }

  /** Refresh the environment check if it is open (called periodically). */
  refreshEnv() {
    if (this.env.open) this.renderEnv();
  }

  renderEnv() {
    const nav = /** @type {any} */ (globalThis.navigator || {});
    if (nav.permissions && typeof nav.permissions.query === "function") {
      nav.permissions.query({ name: "microphone" }).then(
        (/** @type {{state: string}} */ st) => {
          if (st.state !== this.micPermission && !this.signal.aborted) {
            this.micPermission = st.state;
            this.renderEnv();
          }
        },
        () => {}, // Firefox before 131 cannot query "microphone": leave it unknown
      );
    }
    const rows = envRows({ ...this.facts(), micPermission: this.micPermission });
    this.envBody.replaceChildren(
      ...rows.flatMap(([k, v, bad]) => [h("dt", {}, k), h("dd", { class: bad ? "rtnb-stat-bad" : null }, v)]),
    );
  }
}
