// Level meters on a dBFS scale. The input meter also draws the VAD threshold: the stand-in maps
// the API's `threshold` (0..1) to a frame level of −70 + 60 × threshold dBFS, so the line shows
// the level your voice must reach to start a turn.

import { h } from "./dom.js";

/** Bottom and top of the meter scale, dBFS. */
export const METER_MIN_DB = -80;
export const METER_MAX_DB = 0;
/** Meter release: how fast the bar falls, dB per second. */
export const RELEASE_DB_PER_S = 45;

/**
 * RMS in [0, 1] → dBFS (−∞ clamped to the meter floor).
 * @param {number} level
 */
export function levelToDb(level) {
  if (!(level > 0)) return METER_MIN_DB;
  return Math.max(METER_MIN_DB, Math.min(METER_MAX_DB, 20 * Math.log10(level)));
}

/**
 * The stand-in VAD's level for the API threshold (0..1).
 * @param {number} threshold
 */
export function thresholdDb(threshold) {
  const t = Math.min(1, Math.max(0, Number(threshold) || 0));
  return -70 + 60 * t;
}

/**
 * Position on the meter, 0..1.
 * @param {number} db
 */
export function dbToFraction(db) {
  const f = (db - METER_MIN_DB) / (METER_MAX_DB - METER_MIN_DB);
  return Math.min(1, Math.max(0, f));
}

export class Meter {
  /**
   * @param {{rtnb: string, label: string, title: string, withThreshold?: boolean}} opts
   */
  constructor({ rtnb, label, title, withThreshold = false }) {
    this.bar = h("div", { class: "rtnb-meter-bar" });
    this.track = h("div", { class: "rtnb-meter-track" }, this.bar);
    this.el = h("div", { rtnb, class: "rtnb-meter", title, "data-level": "0", role: "meter", "aria-label": label, "aria-valuemin": String(METER_MIN_DB), "aria-valuemax": String(METER_MAX_DB) }, this.track);
    this.dbText = h("span", { class: "rtnb-meter-db" }, "−∞");
    /** @type {HTMLElement|null} */
    this.line = null;
    if (withThreshold) {
      this.line = h("div", { rtnb: "threshold", class: "rtnb-meter-threshold", hidden: true });
      this.track.append(this.line);
    }
    this.shownDb = METER_MIN_DB;
    this.lastLevel = -1;
    this.lastT = 0;
    /** @type {number|null} */
    this.thrDb = null;
    this.wrap = h("div", { class: "rtnb-meter-row" }, h("span", { class: "rtnb-meter-label" }, label), this.el, this.dbText);
  }

  /**
   * Show a new level (RMS 0..1): instant attack, RELEASE_DB_PER_S release.
   * @param {number} level
   * @param {number} [now] ms
   */
  set(level, now = performance.now()) {
    const lv = Number.isFinite(level) ? Math.max(0, level) : 0;
    const dt = this.lastT ? Math.min(0.5, (now - this.lastT) / 1000) : 0;
    this.lastT = now;
    const db = levelToDb(lv);
    const shown = Math.max(db, this.shownDb - RELEASE_DB_PER_S * dt);
    if (Math.abs(lv - this.lastLevel) > 1e-4) {
      this.el.dataset.level = lv.toFixed(4);
      this.lastLevel = lv;
    }
    if (Math.abs(shown - this.shownDb) < 0.05 && dt) return;
    this.shownDb = shown;
    this.bar.style.transform = `scaleX(${dbToFraction(shown).toFixed(4)})`;
    this.el.setAttribute("aria-valuenow", shown.toFixed(0));
    this.dbText.textContent = shown <= METER_MIN_DB ? "−∞" : `${Math.round(shown)} dB`;
    if (this.thrDb !== null) this.el.classList.toggle("rtnb-over", db >= this.thrDb);
  }

  /**
   * Draw the VAD threshold line, or hide it (null).
   * @param {number|null} threshold API value 0..1
   */
  setThreshold(threshold) {
    if (!this.line) return;
    if (threshold === null || threshold === undefined || !Number.isFinite(Number(threshold))) {
      this.line.hidden = true;
      this.thrDb = null;
      this.el.classList.remove("rtnb-over");
      return;
    }
    const db = thresholdDb(Number(threshold));
    this.thrDb = db;
    this.line.hidden = false;
    this.line.style.left = `${(dbToFraction(db) * 100).toFixed(2)}%`;
    this.line.dataset.dbfs = db.toFixed(1);
    this.line.dataset.threshold = String(threshold);
    this.line.title = `VAD threshold ${Number(threshold).toFixed(2)} ≈ ${db.toFixed(0)} dBFS`;
  }
}
