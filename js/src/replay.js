// A replay of a recorded session (RealtimeWidget.replay, `status` "replay"): no session, no mic.
// The bar holds the speed selector (1×, 2×, 4×, all: the `set_speed` command, shown from the
// `speed` trait) and the recorded session config, read-only. Each transcript bubble whose item has
// recorded audio (`replay_items` trait, user and assistant alike) gets a play button (test hook
// `replay-play`) that asks the kernel for the item's audio (`play_item`). The kernel's first AUDIO
// chunk of each play carries `restart`: the player drops what it holds, so an item plays from its
// start again even after it was played or cut. view.js wires this in; the words are in
// replay-speed.js.

import "./replay.css";
import { h } from "./dom.js";
import { SPEEDS, parseSpeed, speedOption } from "./replay-speed.js";

export class ReplayBar {
  /**
   * @param {{signal: AbortSignal, guard: import("./guard.js").Guard,
   *   onSpeed: (speed: number|null) => void, onPlay: (itemId: string) => void}} opts
   */
  constructor({ signal, guard, onSpeed, onPlay }) {
    this.onPlay = onPlay;
    this.guard = guard;
    this.signal = signal;
    /** @type {Set<string>} items whose audio the recording holds */
    this.items = new Set();
    this.select = /** @type {HTMLSelectElement} */ (
      h(
        "select",
        { rtnb: "replay-speed", class: "rtnb-select", title: "How fast the recorded events appear (all: every remaining one now)" },
        ...SPEEDS.map(([value, label]) => h("option", { value: value === null ? "all" : String(value) }, label)),
      )
    );
    this.select.addEventListener("change", guard(() => onSpeed(parseSpeed(this.select.value))), { signal });
    this.config = h("pre", {});
    this.el = h(
      "section",
      { rtnb: "replay", class: "rtnb-replay", "aria-label": "Replay", hidden: true },
      h("label", { class: "rtnb-replay-speed" }, "speed ", this.select),
      h("details", { class: "rtnb-replay-config" }, h("summary", {}, "recorded session config"), this.config),
    );
  }

  /** @param {boolean} on the widget is a replay */
  setActive(on) {
    this.el.hidden = !on;
  }

  /** @param {unknown} speed the `speed` trait */
  setSpeed(speed) {
    const value = speedOption(speed);
    if (this.select.value !== value) this.select.value = value;
  }

  /** @param {object} config the `session_config` trait */
  setConfig(config) {
    this.config.textContent = JSON.stringify(config || {}, null, 2);
  }

  /** @param {unknown} ids the `replay_items` trait */
  setItems(ids) {
    this.items = new Set(Array.isArray(ids) ? ids.map(String) : []);
  }

  /**
   * Give every bubble with recorded audio its play button (again after the bubble was redrawn).
   * @param {{turns: Map<string, {el: HTMLElement}>}} transcript the TranscriptView
   */
  decorate(transcript) {
    if (this.el.hidden) return;
    for (const [id, { el }] of transcript.turns) {
      if (!this.items.has(id) || el.querySelector("[data-rtnb=replay-play]")) continue;
      const button = h(
        "button",
        { rtnb: "replay-play", class: "rtnb-btn rtnb-btn-small rtnb-replay-play", type: "button", "data-item": id, title: "Play this item's recorded audio" },
        "▶ play",
      );
      button.addEventListener(
        "click",
        this.guard((/** @type {Event} */ e) => {
          e.stopPropagation(); // a play is not a click on the bubble (which filters the table)
          this.onPlay(id);
        }),
        { signal: this.signal },
      );
      (el.querySelector(".rtnb-turn-meta") || el).append(button);
    }
  }
}

/**
 * Before the first chunk of a replayed item: drop what the player holds (no report), so the item
 * plays from its start even if it was played or cut before.
 * @param {import("./playback.js").Playback} playback
 * @param {string} itemId
 */
export function restartPlayback(playback, itemId) {
  const player = /** @type {any} */ (playback.player);
  if (player && player.node && !player._closed) player.node.port.postMessage({ cmd: "reset" });
  delete playback.received[itemId];
  delete playback.played[itemId];
}
