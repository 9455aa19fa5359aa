// The live event table: one DOM row per coalesced run of events (the rows themselves:
// event-rows.js; how a row reads: row-format.js).
//
// Theory of operation. The kernel sends `rows` batches (bridge ROWS), each row already a
// coalesced run; a run may continue across batches, so the first row of a batch can extend the
// table's last row. `RowStore` (pure, node-tested) holds the rows as plain objects: it only ever
// appends, replaces its last row (a merge), drops rows from the front (the cap) or resets
// (`replace`). `TableView` mirrors the store into the DOM in requestAnimationFrame batches:
// it drops the DOM rows the store dropped, re-renders the last row when its object changed,
// and appends the rest through a DocumentFragment, at most MAX_ROWS_PER_FRAME per frame.
// Filters only toggle the `hidden` attribute, so every kept row stays in the DOM. Rows are
// grid `div`s (ARIA table roles) with `content-visibility: auto`, not `<tr>`s: the browser then
// skips layout and paint of the rows scrolled out of view, which keeps each frame short with
// thousands of rows (a `<table>` re-lays and re-paints all of them).

import "./table.css";
import { h } from "./dom.js";
import { RowStore, compileFilter, filterIsEmpty, rowMatches } from "./event-rows.js";
import { DIR_ARROWS, DIR_TITLES, abbreviateType, audioMarkers, displaySummary, formatAudioMs, formatSize, formatTime, isErrorRow, shortId, timeTitle } from "./row-format.js";

/**
 * @typedef {import("./bridge.js").Row} Row
 * @typedef {import("./event-rows.js").Filter} Filter
 */

/** New DOM rows built per animation frame (a replace batch of 2000 rows takes a few frames). */
export const MAX_ROWS_PER_FRAME = 400;
/** DOM updates of the table at most this often (rows still appear within a fifth of a second). */
export const MIN_FLUSH_INTERVAL_MS = 200;

const COLUMNS = [
  ["dir", "", "direction"],
  ["t", "t (s)", "seconds since the session started (m:ss.s after 1000 s, h:mm:ss after an hour)"],
  ["turn", "turn", "conversation turn: click a turn in the timeline or a transcript bubble to show only its rows"],
  ["type", "type", "event type, shortened in the middle when the column is narrow (hover for the full name; ×n: a run of n deltas shown as one row)"],
  ["ids", "item", "item id, else response id (hover for both)"],
  ["summary", "summary", ""],
  ["size", "size", "bytes on the wire"],
  ["audio", "audio", "audio carried by the event(s)"],
];

const TYPE_SUGGESTIONS = [
  "session.",
  "input_audio_buffer.",
  "-input_audio_buffer.append",
  "conversation.",
  "response.",
  "-response.output_audio.delta",
  "response.done",
  "error",
  "local.",
];

/**
 * @typedef {{row: Row, tr: HTMLElement}} DomRow
 * @typedef {{payload: object|null, error: string|null}} EventReply
 * @typedef {{original?: boolean}} EventRequestOptions
 */

/** Characters the type column shows before the middle of a name is shortened (re-measured). */
const DEFAULT_TYPE_CHARS = 30;

export class TableView {
  /**
   * @param {{signal: AbortSignal,
   *   requestEvent: (seq: number, options?: EventRequestOptions) => Promise<EventReply>,
   *   clearLog: () => void, onError: (e: unknown) => void}} opts
   */
  constructor({ signal, requestEvent, clearLog, onError }) {
    this.store = new RowStore();
    this.requestEvent = requestEvent;
    this.onError = onError;
    this.filter = compileFilter();
    /** @type {DomRow[]} */
    this.dom = [];
    this.renderedEpoch = 0;
    this.renderedRemoved = 0;
    /** @type {number|null} */ this.raf = null;
    this.lastFlush = -Infinity;
    /** @type {ReturnType<typeof setTimeout>|null} */ this.fallback = null;
    this.autoPaused = false;
    this.lastScrollTop = 0;
    /** @type {number|null} */ this.selectedSeq = null;
    this.jsonToken = 0;
    this.signal = signal;
    /** @type {number|null} the turn the table is narrowed to (setTurnFilter) */
    this.turnFilter = null;
    this.typeChars = DEFAULT_TYPE_CHARS;
    /** @type {{rows: number, t: number}|null} what the last "clear" hid */
    this.cleared = null;

    const opt = { signal };
    this.filterType = /** @type {HTMLInputElement} */ (
      h("input", {
        rtnb: "filter-type",
        type: "search",
        class: "rtnb-input rtnb-filter-type",
        placeholder: "type prefix, e.g. response.  -input_audio",
        title: "Show types starting with these prefixes (space or comma separated); a leading - hides a prefix",
        autocomplete: "off",
        spellcheck: "false",
        "data-lm-suppress-shortcuts": "true",
      })
    );
    const listId = `rtnb-types-${Math.random().toString(36).slice(2, 9)}`;
    this.filterType.setAttribute("list", listId);
    const datalist = h("datalist", { id: listId }, ...TYPE_SUGGESTIONS.map((v) => h("option", { value: v })));
    this.filterDir = /** @type {HTMLSelectElement} */ (
      h(
        "select",
        { rtnb: "filter-dir", class: "rtnb-select", title: "direction" },
        h("option", { value: "" }, "all"),
        h("option", { value: "client" }, "→ sent"),
        h("option", { value: "server" }, "← received"),
        h("option", { value: "local" }, "• local"),
      )
    );
    this.search = /** @type {HTMLInputElement} */ (
      h("input", {
        rtnb: "search",
        type: "search",
        class: "rtnb-input rtnb-search",
        placeholder: "search",
        title: "Search seq, type, ids and summary",
        autocomplete: "off",
        spellcheck: "false",
        "data-lm-suppress-shortcuts": "true",
      })
    );
    this.follow = /** @type {HTMLInputElement} */ (h("input", { rtnb: "follow", type: "checkbox" }));
    this.follow.checked = true;
    this.hiddenCount = h("span", { rtnb: "hidden-count" }, "0");
    this.hiddenNote = h("span", { class: "rtnb-hidden-note", hidden: true, title: "Oldest rows were removed from this table to keep it fast (row_cap). The kernel keeps them: w.events" }, this.hiddenCount, " older rows hidden");
    this.countsEl = h("span", { class: "rtnb-counts" });
    this.clearedNote = h("span", { rtnb: "cleared-note", class: "rtnb-cleared-note", hidden: true });
    this.turnChipLabel = h("span", {}, "");
    const turnChipClose = h("button", { class: "rtnb-chip-x", type: "button", title: "Show every turn", "aria-label": "Show every turn" }, "×");
    this.turnChip = h("span", { rtnb: "turn-filter", class: "rtnb-chip", hidden: true, title: "Only this turn's rows are shown" }, this.turnChipLabel, turnChipClose);
    turnChipClose.addEventListener("click", () => this.setTurnFilter(null), opt);

    const clearBtn = h(
      "button",
      { rtnb: "clear", class: "rtnb-btn rtnb-btn-small", type: "button", title: "Hide the rows shown so far from this table (the kernel keeps every event: w.events)" },
      "clear",
    );
    clearBtn.addEventListener(
      "click",
      () => {
        try {
          const rows = this.store.rows.length + this.store.hidden;
          const last = this.store.rows[this.store.rows.length - 1];
          this.cleared = { rows: (this.cleared?.rows ?? 0) + rows, t: last ? last.t : 0 };
          clearLog();
          this.showClearedNote();
        } catch (e) {
          this.onError(e);
        }
      },
      opt,
    );
    const toolbar = h(
      "div",
      { class: "rtnb-table-toolbar" },
      this.filterType,
      datalist,
      this.filterDir,
      this.search,
      this.turnChip,
      h("label", { class: "rtnb-follow", title: "Keep the newest row in view (pauses when you scroll up)" }, this.follow, " follow"),
      clearBtn,
    );

    this.thead = h(
      "div",
      { class: "rtnb-tr rtnb-thead", role: "row" },
      ...COLUMNS.map(([k, label, title]) => h("span", { class: `rtnb-th rtnb-c-${k}`, role: "columnheader", title: title || null }, label)),
    );
    this.tbody = h("div", { class: "rtnb-tbody", role: "rowgroup" });
    this.table = h("div", { class: "rtnb-table", role: "table", "aria-label": "Events" }, this.thead, this.tbody);
    this.scroller = h("div", { rtnb: "table", class: "rtnb-table-scroll", tabindex: "0" }, this.table);
    this.empty = h("div", { class: "rtnb-empty" }, "No events yet. Start the mic or send a message.");
    this.scroller.append(this.empty);

    this.jsonTitle = h("span", { class: "rtnb-json-title" });
    this.jsonPre = h("pre", { class: "rtnb-json-pre" });
    this.jsonNote = h("div", { rtnb: "json-note", class: "rtnb-json-note", hidden: true });
    const copyBtn = h("button", { class: "rtnb-btn rtnb-btn-small", type: "button", title: "Copy the JSON" }, "copy");
    const closeBtn = h("button", { class: "rtnb-btn rtnb-btn-small", type: "button", title: "Close", "aria-label": "Close the JSON panel" }, "×");
    this.json = h(
      "div",
      { rtnb: "json", class: "rtnb-json", hidden: true },
      h("div", { class: "rtnb-json-head" }, this.jsonTitle, h("span", { class: "rtnb-spacer" }), copyBtn, closeBtn),
      this.jsonNote,
      this.jsonPre,
    );

    this.el = h(
      "section",
      { class: "rtnb-events", "aria-label": "Events" },
      h("div", { class: "rtnb-section-head" }, h("h3", { class: "rtnb-h" }, "Events"), this.countsEl, this.hiddenNote, this.clearedNote),
      toolbar,
      this.scroller,
      this.json,
    );

    // row template: cloned per row (cheaper than building 7 cells each time)
    this.template = h(
      "div",
      { rtnb: "row", class: "rtnb-tr", role: "row" },
      ...COLUMNS.map(([k]) => h("span", { class: `rtnb-td rtnb-c-${k}`, role: "cell" })),
    );

    let searchTimer = /** @type {ReturnType<typeof setTimeout>|null} */ (null);
    const refilter = () => this.applyFilter();
    this.filterType.addEventListener("input", refilter, opt);
    this.filterDir.addEventListener("change", refilter, opt);
    this.search.addEventListener(
      "input",
      () => {
        if (searchTimer) clearTimeout(searchTimer);
        searchTimer = setTimeout(refilter, 120);
      },
      opt,
    );
    signal.addEventListener("abort", () => searchTimer && clearTimeout(searchTimer), { once: true });
    this.follow.addEventListener(
      "change",
      () => {
        this.autoPaused = false;
        if (this.follow.checked) this.scrollToEnd();
      },
      opt,
    );
    this.scroller.addEventListener("scroll", () => this.onScroll(), { ...opt, passive: true });
    this.tbody.addEventListener(
      "click",
      (ev) => {
        const tr = /** @type {HTMLElement|null} */ (/** @type {HTMLElement} */ (ev.target).closest("[data-rtnb=row]"));
        if (tr) this.select(Number(tr.dataset.seq), tr);
      },
      opt,
    );
    this.scroller.addEventListener(
      "keydown",
      (ev) => {
        if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
        const sel = this.tbody.querySelector(".rtnb-selected");
        let tr = /** @type {Element|null} */ (sel);
        do {
          tr = tr ? (ev.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling) : this.tbody.firstElementChild;
        } while (tr && /** @type {HTMLElement} */ (tr).hidden);
        if (tr instanceof HTMLElement) {
          ev.preventDefault();
          tr.scrollIntoView({ block: "nearest" });
          this.select(Number(tr.dataset.seq), tr);
        }
      },
      opt,
    );
    closeBtn.addEventListener("click", () => this.closeJson(), opt);
    copyBtn.addEventListener(
      "click",
      () => {
        const text = this.jsonPre.textContent || "";
        if (navigator.clipboard) navigator.clipboard.writeText(text).catch((e) => this.onError(e));
      },
      opt,
    );
    signal.addEventListener("abort", () => this.cancelFrame(), { once: true });
    this.watchTypeWidth();
  }

  /** Re-measure how many characters the type column holds whenever the table is resized. */
  watchTypeWidth() {
    if (typeof ResizeObserver === "undefined") return;
    const cell = /** @type {HTMLElement|null} */ (this.thead.querySelector(".rtnb-c-type"));
    if (!cell) return;
    const probe = h("span", { class: "rtnb-probe", "aria-hidden": "true" }, "0000000000");
    this.table.append(probe);
    const observer = new ResizeObserver(() => {
      const charWidth = probe.getBoundingClientRect().width / 10;
      const width = cell.clientWidth - 8; // the cell's padding
      if (!(charWidth > 0) || !(width > 0)) return;
      const chars = Math.max(8, Math.floor(width / charWidth));
      if (chars === this.typeChars) return;
      this.typeChars = chars;
      for (const { row, tr } of this.dom) this.fillType(/** @type {HTMLElement} */ (tr.children[3]), row);
    });
    observer.observe(cell);
    this.signal.addEventListener("abort", () => observer.disconnect(), { once: true });
  }

  /**
   * Show only the rows of conversation turn `n` (null: every turn).
   * @param {number|null} n
   */
  setTurnFilter(n) {
    this.turnFilter = typeof n === "number" && Number.isFinite(n) ? n : null;
    this.turnChip.hidden = this.turnFilter === null;
    this.turnChipLabel.textContent = this.turnFilter === null ? "" : `turn ${this.turnFilter}`;
    this.applyFilter();
  }

  showClearedNote() {
    const c = this.cleared;
    this.clearedNote.hidden = !c;
    if (!c) return;
    this.clearedNote.textContent = `cleared ${c.rows.toLocaleString()} rows up to ${formatTime(c.t)} s`;
    this.clearedNote.title =
      "Clear hides rows from this table only. The kernel keeps every event: w.events (and w.events.to_dataframe()).";
  }

  /**
   * Take a ROWS message.
   * @param {import("./bridge.js").Rows} msg
   */
  ingest(msg) {
    this.store.ingest(msg.rows, { replace: !!msg.replace, total: msg.total, counts: msg.counts });
    for (const i of this.store.applyTurns(msg.turns)) {
      const entry = this.dom[i];
      if (entry && entry.row.seq === this.store.rows[i].seq) {
        entry.row = this.store.rows[i];
        this.fill(entry.tr, entry.row);
      }
    }
    this.schedule();
  }

  /** @param {number} cap */
  setCap(cap) {
    this.store.setCap(cap);
    this.schedule();
  }

  get rowCount() {
    return this.store.rows.length;
  }

  schedule() {
    if (this.raf !== null || this.fallback !== null || this.signal.aborted) return;
    const wait = Math.max(0, this.lastFlush + MIN_FLUSH_INTERVAL_MS - performance.now());
    if (wait > 0) {
      this.fallback = setTimeout(() => {
        this.fallback = null;
        this.schedule();
      }, wait);
      return;
    }
    this.raf = requestAnimationFrame(() => this.flush());
    // rAF does not run in background tabs: render anyway, rarely
    this.fallback = setTimeout(() => this.flush(), 500);
  }

  cancelFrame() {
    if (this.raf !== null) cancelAnimationFrame(this.raf);
    if (this.fallback !== null) clearTimeout(this.fallback);
    this.raf = null;
    this.fallback = null;
  }

  /** Mirror the store into the DOM (one frame's worth). */
  flush() {
    this.cancelFrame();
    this.lastFlush = performance.now();
    try {
      this.render();
    } catch (e) {
      this.onError(e);
    }
  }

  render() {
    const store = this.store;
    if (this.renderedEpoch !== store.epoch) {
      this.tbody.textContent = "";
      this.dom = [];
      this.renderedEpoch = store.epoch;
      this.renderedRemoved = store.removedTotal;
      if (this.selectedSeq !== null) this.selectedSeq = null;
    }
    // 1. rows the cap dropped
    const drop = Math.min(store.removedTotal - this.renderedRemoved, this.dom.length);
    if (drop > 0) {
      if (drop === this.dom.length) this.tbody.textContent = "";
      else for (let i = 0; i < drop; i++) this.dom[i].tr.remove();
      this.dom.splice(0, drop);
    }
    this.renderedRemoved = store.removedTotal;
    // the store may have dropped rows that were never rendered
    const offset = Math.max(0, this.dom.length - store.rows.length);
    if (offset) {
      for (let i = 0; i < offset; i++) this.dom[i].tr.remove();
      this.dom.splice(0, offset);
    }
    // 2. the last rendered row may have grown (a continued run)
    const k = this.dom.length - 1;
    if (k >= 0 && store.rows[k] !== this.dom[k].row) {
      this.dom[k].row = store.rows[k];
      this.fill(this.dom[k].tr, store.rows[k]);
    }
    // 3. new rows
    const start = this.dom.length;
    const end = Math.min(store.rows.length, start + MAX_ROWS_PER_FRAME);
    if (end > start) {
      const frag = document.createDocumentFragment();
      for (let i = start; i < end; i++) {
        const row = store.rows[i];
        const tr = /** @type {HTMLElement} */ (this.template.cloneNode(true));
        this.fill(tr, row);
        frag.append(tr);
        this.dom.push({ row, tr });
      }
      this.tbody.append(frag);
    }
    this.empty.hidden = store.rows.length > 0;
    this.updateCounts();
    if (this.follow.checked) this.scrollToEnd();
    if (end < store.rows.length) this.schedule();
  }

  /**
   * @param {HTMLElement} tr
   * @param {Row} row
   */
  fill(tr, row) {
    const d = tr.dataset;
    d.seq = String(row.seq);
    d.last = String(row.last);
    d.n = String(row.n);
    d.type = row.type;
    d.dir = row.dir;
    d.turn = row.turn === null ? "" : String(row.turn);
    const c = /** @type {HTMLCollectionOf<HTMLElement>} */ (tr.children);
    c[0].textContent = DIR_ARROWS[row.dir] ?? "?";
    c[0].title = DIR_TITLES[row.dir] ?? row.dir;
    c[1].textContent = formatTime(row.t);
    c[1].title = timeTitle(row.t);
    c[2].textContent = row.turn === null ? "" : String(row.turn);
    this.fillType(c[3], row);
    c[4].textContent = shortId(row.item || row.resp);
    c[4].title = [row.item && `item ${row.item}`, row.resp && `response ${row.resp}`].filter(Boolean).join("\n");
    c[5].textContent = displaySummary(row);
    c[5].title = row.summary;
    c[6].textContent = formatSize(row.size);
    c[7].textContent = formatAudioMs(row.audio_ms);
    tr.classList.toggle("rtnb-row-error", isErrorRow(row));
    tr.classList.toggle("rtnb-selected", row.seq === this.selectedSeq);
    tr.hidden = !rowMatches(row, this.filter);
  }

  /**
   * The type cell: shortened in the middle to the column's width, the full name on hover.
   * @param {HTMLElement} cell
   * @param {Row} row
   */
  fillType(cell, row) {
    const badge = row.n > 1 ? `×${row.n}` : "";
    const room = this.typeChars - (badge ? badge.length + 1 : 0);
    cell.textContent = abbreviateType(row.type, room);
    if (badge) {
      const el = document.createElement("span");
      el.className = "rtnb-n";
      el.textContent = badge;
      cell.append(" ", el);
    }
    cell.title = row.n > 1 ? `${row.type}: ${row.n} events, seq ${row.seq}–${row.last}` : `${row.type} (seq ${row.seq})`;
  }

  applyFilter() {
    this.filter = compileFilter({
      type: this.filterType.value,
      dir: this.filterDir.value,
      search: this.search.value,
      turn: this.turnFilter,
    });
    for (const { row, tr } of this.dom) tr.hidden = !rowMatches(row, this.filter);
    this.updateCounts();
    if (this.follow.checked) this.scrollToEnd();
  }

  updateCounts() {
    const s = this.store;
    this.hiddenCount.textContent = String(s.hidden);
    this.hiddenNote.hidden = s.hidden === 0;
    const dirs = ["client", "server", "local"]
      .filter((d) => s.counts[d])
      .map((d) => `${DIR_ARROWS[/** @type {"client"} */ (d)]} ${s.counts[d]}`)
      .join("  ");
    let shown = "";
    if (!filterIsEmpty(this.filter)) {
      let n = 0;
      for (const { tr } of this.dom) if (!tr.hidden) n++;
      shown = ` · ${n} rows match`;
    }
    this.countsEl.textContent = s.total ? `${s.total} events${dirs ? ` (${dirs})` : ""}${shown}` : shown.slice(3);
  }

  scrollToEnd() {
    const s = this.scroller;
    s.scrollTop = s.scrollHeight;
    this.lastScrollTop = s.scrollTop;
  }

  onScroll() {
    const s = this.scroller;
    const atEnd = s.scrollTop + s.clientHeight >= s.scrollHeight - 4;
    if (atEnd) {
      if (this.autoPaused) {
        this.autoPaused = false;
        this.follow.checked = true;
      }
    } else if (s.scrollTop < this.lastScrollTop - 1 && this.follow.checked) {
      // the user scrolled up: stop following until they come back to the end
      this.follow.checked = false;
      this.autoPaused = true;
    }
    this.lastScrollTop = s.scrollTop;
  }

  /**
   * Select a row and show its JSON (asked from the kernel; never hangs).
   * @param {number} seq
   * @param {HTMLElement} [tr]
   */
  select(seq, tr) {
    for (const old of this.tbody.querySelectorAll(".rtnb-selected")) old.classList.remove("rtnb-selected");
    this.selectedSeq = seq;
    if (tr) tr.classList.add("rtnb-selected");
    const entry = this.dom.find((d) => d.row.seq === seq);
    const row = entry ? entry.row : null;
    const head = row
      ? `#${row.seq} ${row.type}${row.n > 1 ? ` (first of ${row.n} events, seq ${row.seq}–${row.last})` : ""}`
      : `#${seq}`;
    this.jsonTitle.textContent = head;
    this.jsonNote.hidden = true;
    this.jsonNote.textContent = "";
    this.jsonPre.textContent = "loading…";
    this.json.hidden = false;
    this.json.classList.remove("rtnb-json-error");
    const token = ++this.jsonToken;
    this.requestEvent(seq).then(
      (reply) => {
        if (token !== this.jsonToken) return;
        if (reply.error) {
          this.jsonPre.textContent = reply.error;
          this.json.classList.add("rtnb-json-error");
        } else {
          this.jsonPre.textContent = JSON.stringify(reply.payload, null, 2);
          this.explainMarkers(seq, reply.payload, token);
        }
      },
      (e) => {
        if (token !== this.jsonToken) return;
        this.jsonPre.textContent = String(e && e.message ? e.message : e);
        this.json.classList.add("rtnb-json-error");
      },
    );
  }

  /**
   * Say that audio was replaced by a marker, and offer the event as it was sent.
   * @param {number} seq
   * @param {object|null} payload
   * @param {number} token
   */
  explainMarkers(seq, payload, token) {
    const markers = audioMarkers(payload);
    if (!markers.length) return;
    const where = markers.map((m) => `${m.path} (${m.bytes.toLocaleString()} bytes, ${m.ms} ms)`).join(", ");
    const asSent = h("button", { rtnb: "json-original", class: "rtnb-btn rtnb-btn-small", type: "button", title: "Ask the kernel for this event with its base64 audio, as it crossed the wire" }, "show as sent");
    this.jsonNote.replaceChildren(
      `The base64 audio in ${where} was replaced here by a marker {audio_bytes, ms}, to keep the log small. `,
      asSent,
    );
    this.jsonNote.hidden = false;
    asSent.addEventListener("click", () => {
      asSent.setAttribute("disabled", "");
      this.requestEvent(seq, { original: true }).then(
        (reply) => {
          if (token !== this.jsonToken) return;
          if (reply.error) {
            this.jsonNote.replaceChildren(reply.error);
          } else {
            this.jsonNote.replaceChildren("As sent, with its base64 audio:");
            this.jsonPre.textContent = JSON.stringify(reply.payload, null, 2);
          }
        },
        (e) => {
          if (token === this.jsonToken) this.jsonNote.replaceChildren(String(e && e.message ? e.message : e));
        },
      );
    });
  }

  closeJson() {
    this.jsonToken++;
    this.json.hidden = true;
    this.selectedSeq = null;
    for (const old of this.tbody.querySelectorAll(".rtnb-selected")) old.classList.remove("rtnb-selected");
  }
}
