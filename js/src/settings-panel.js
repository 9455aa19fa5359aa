// The session settings panel: turn detection, input transcription, voice, instructions, output
// modalities. Two-way: the form shows the `session_config` trait (the session as the server last
// confirmed it in `session.updated`, so changes made from Python show here too), and "Apply"
// sends an UPDATE_SESSION message with only what the form changed. The kernel checks the values
// and answers problems in the `settings_errors` trait ({field: message}), shown next to each
// field. "Copy as code" shows and copies the same `session.update` as a line of Python.
// The form ⇄ session mapping is pure (formFromConfig, sessionUpdate, pythonCode) and node-tested.

import { h } from "./dom.js";

/**
 * @typedef {{turn: "none"|"server_vad"|"semantic_vad", threshold: string, prefix_padding_ms: string,
 *   silence_duration_ms: string, eagerness: string, transcription: boolean,
 *   transcription_model: string, voice: string, instructions: string,
 *   output_modalities: "audio"|"text"}} SettingsForm
 * @typedef {{voices?: string[], transcription_models?: string[], eagerness?: string[],
 *   default_silence_ms?: number, default_transcription_model?: string}} SettingsOptions
 */

/** @param {unknown} v @returns {Record<string, any>} */
const obj = (v) => (v && typeof v === "object" && !Array.isArray(v) ? /** @type {Record<string, any>} */ (v) : {});
/** @param {unknown} v */
const str = (v) => (v === null || v === undefined ? "" : String(v));

/**
 * The form's values for a session config (GA shape, from `session.updated`).
 * @param {Record<string, any>} config
 * @param {SettingsOptions} [options]
 * @returns {SettingsForm}
 */
export function formFromConfig(config, options = {}) {
  const input = obj(obj(config.audio).input);
  const output = obj(obj(config.audio).output);
  const td = input.turn_detection && typeof input.turn_detection === "object" ? obj(input.turn_detection) : null;
  const tr = input.transcription && typeof input.transcription === "object" ? obj(input.transcription) : null;
  const turn = td && (td.type === "server_vad" || td.type === "semantic_vad") ? td.type : "none";
  const mods = Array.isArray(config.output_modalities) ? config.output_modalities : ["audio"];
  return {
    turn,
    threshold: str(td?.threshold ?? 0.5),
    prefix_padding_ms: str(td?.prefix_padding_ms ?? 300),
    silence_duration_ms: str(td?.silence_duration_ms ?? options.default_silence_ms ?? 600),
    eagerness: str(td?.eagerness ?? "auto"),
    transcription: !!tr,
    transcription_model: str(tr?.model ?? options.default_transcription_model ?? "gpt-transcribe"),
    voice: typeof output.voice === "string" ? output.voice : "",
    instructions: str(config.instructions),
    output_modalities: mods.includes("text") && !mods.includes("audio") ? "text" : "audio",
  };
}

/**
 * A number typed in the form, or the text itself when it is not one (the kernel then says so
 * next to the field, rather than the browser silently sending something else).
 * @param {string} text
 * @returns {number|string}
 */
function numberOrText(text) {
  const t = text.trim();
  const x = Number(t);
  return t !== "" && Number.isFinite(x) ? x : text;
}

/**
 * The turn_detection object the form asks for (null: off, push-to-talk).
 * @param {SettingsForm} f
 * @returns {Record<string, any>|null}
 */
function turnDetection(f) {
  if (f.turn === "server_vad") {
    return {
      type: "server_vad",
      threshold: numberOrText(f.threshold),
      prefix_padding_ms: numberOrText(f.prefix_padding_ms),
      silence_duration_ms: numberOrText(f.silence_duration_ms),
    };
  }
  if (f.turn === "semantic_vad") return { type: "semantic_vad", eagerness: f.eagerness };
  return null;
}

/**
 * The `session` of the `session.update` that turns `before` into the form `f`: only the groups
 * that changed (turn detection, transcription, voice, instructions, modalities). Empty: nothing
 * to send.
 * @param {SettingsForm} f
 * @param {SettingsForm} before the form as the session has it now
 * @returns {Record<string, any>}
 */
export function sessionUpdate(f, before) {
  /** @type {Record<string, any>} */
  const session = {};
  /** @type {Record<string, any>} */
  const input = {};
  const tdNow = JSON.stringify(turnDetection(f));
  if (tdNow !== JSON.stringify(turnDetection(before))) input.turn_detection = turnDetection(f);
  if (f.transcription !== before.transcription || (f.transcription && f.transcription_model !== before.transcription_model)) {
    input.transcription = f.transcription ? { model: f.transcription_model.trim() } : null;
  }
  /** @type {Record<string, any>} */
  const audio = {};
  if (Object.keys(input).length) audio.input = input;
  if (f.voice && f.voice !== before.voice) audio.output = { voice: f.voice };
  if (Object.keys(audio).length) session.audio = audio;
  if (f.instructions !== before.instructions) session.instructions = f.instructions;
  if (f.output_modalities !== before.output_modalities) session.output_modalities = [f.output_modalities];
  return session;
}

/**
 * A JSON value as a Python literal (True/False/None), for "copy as code".
 * @param {unknown} v
 * @param {string} [indent]
 * @returns {string}
 */
export function pyLiteral(v, indent = "") {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "None";
  if (typeof v === "string") return JSON.stringify(v);
  const inner = indent + "    ";
  if (Array.isArray(v)) return `[${v.map((x) => pyLiteral(x, indent)).join(", ")}]`;
  const entries = Object.entries(/** @type {Record<string, unknown>} */ (v));
  if (!entries.length) return "{}";
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${pyLiteral(x, inner)},`).join("\n")}\n${indent}}`;
}

/**
 * "Copy as code": the Python that sends this update, and the wire event it becomes.
 * @param {Record<string, any>} session
 * @returns {string}
 */
export function pythonCode(session) {
  if (!Object.keys(session).length) return "# nothing changed: the session already has these settings";
  const wire = JSON.stringify({ type: "session.update", session: { type: "realtime", ...session } });
  return `w.update_session(${pyLiteral(session)})\n# on the wire: ${wire}`;
}

/** The form's fields: name, label, and the tooltip saying what the field is in the API. */
const HELP = {
  turn: "audio.input.turn_detection: who ends your turn. Off = push-to-talk (you commit).",
  threshold: "turn_detection.threshold (0–1): how loud speech must be to start a turn.",
  prefix_padding_ms: "turn_detection.prefix_padding_ms: audio kept from before speech started.",
  silence_duration_ms: "turn_detection.silence_duration_ms: silence that ends a turn. Under ~500 ms ordinary pauses between sentences split one thought into several turns.",
  eagerness: "semantic_vad eagerness: low waits longer for you to finish (up to 8 s), high answers sooner (2 s).",
  transcription: "audio.input.transcription: transcribe what you say (your turns then show as text).",
  voice: "audio.output.voice (the service refuses a change once the model has spoken).",
  instructions: "instructions: the session's system prompt.",
  output_modalities: "output_modalities: audio (with a transcript) or text only.",
};

export class SettingsPanel {
  /**
   * @param {{signal: AbortSignal, guard: import("./guard.js").Guard,
   *   apply: (session: Record<string, any>) => void}} opts
   */
  constructor({ signal, guard, apply }) {
    this.apply = apply;
    /** @type {Record<string, any>} */
    this.config = {};
    /** @type {SettingsOptions} */
    this.options = {};
    /** @type {Set<string>} fields the person changed and has not applied yet */
    this.dirty = new Set();
    /** @type {Record<string, HTMLElement>} */
    this.errors = {};
    const on = (/** @type {EventTarget} */ t, /** @type {string} */ type, /** @type {(e: any) => unknown} */ fn) =>
      t.addEventListener(type, guard(fn), { signal });

    const select = (/** @type {string} */ name, /** @type {[string, string][]} */ choices) =>
      /** @type {HTMLSelectElement} */ (h("select", { rtnb: `settings-${name}`, class: "rtnb-select", name }, ...choices.map(([v, t]) => h("option", { value: v }, t))));
    const input = (/** @type {string} */ name, /** @type {Record<string, unknown>} */ attrs = {}) =>
      /** @type {HTMLInputElement} */ (h("input", { rtnb: `settings-${name}`, class: "rtnb-input rtnb-settings-num", name, autocomplete: "off", "data-lm-suppress-shortcuts": "true", ...attrs }));

    this.fields = {
      turn: select("turn", [["none", "off (push-to-talk)"], ["server_vad", "server VAD"], ["semantic_vad", "semantic VAD"]]),
      threshold: input("threshold", { type: "number", min: "0", max: "1", step: "0.05" }),
      prefix_padding_ms: input("prefix_padding_ms", { type: "number", min: "0", step: "50" }),
      silence_duration_ms: input("silence_duration_ms", { type: "number", min: "0", step: "50" }),
      eagerness: select("eagerness", [["auto", "auto"], ["low", "low"], ["medium", "medium"], ["high", "high"]]),
      transcription: input("transcription", { type: "checkbox", class: "rtnb-settings-check" }),
      transcription_model: select("transcription_model", []),
      voice: select("voice", []),
      instructions: /** @type {HTMLTextAreaElement} */ (h("textarea", { rtnb: "settings-instructions", class: "rtnb-input rtnb-settings-text", name: "instructions", rows: "3", "data-lm-suppress-shortcuts": "true" })),
      output_modalities: select("output_modalities", [["audio", "audio + transcript"], ["text", "text only"]]),
    };
    const row = (/** @type {keyof typeof HELP} */ name, /** @type {string} */ label, /** @type {string} */ unit = "") => {
      const err = h("span", { rtnb: "settings-error", class: "rtnb-settings-error", "data-field": name, hidden: true });
      this.errors[name] = err;
      const extra = name === "transcription" ? this.fields.transcription_model : null;
      return h("label", { class: "rtnb-settings-row", "data-field": name, title: HELP[name] }, h("span", { class: "rtnb-settings-label" }, label), this.fields[name], unit, extra, err);
    };
    this.rows = {
      threshold: row("threshold", "threshold"),
      prefix_padding_ms: row("prefix_padding_ms", "prefix padding", " ms"),
      silence_duration_ms: row("silence_duration_ms", "silence", " ms"),
      eagerness: row("eagerness", "eagerness"),
    };
    this.errors.transcription_model = this.errors.transcription = h("span", { rtnb: "settings-error", class: "rtnb-settings-error", "data-field": "transcription_model", hidden: true });
    this.serverError = h("div", { rtnb: "settings-error", class: "rtnb-settings-error", "data-field": "_", hidden: true });
    this.errors._ = this.serverError;
    this.applyButton = h("button", { rtnb: "settings-apply", class: "rtnb-btn rtnb-btn-primary", type: "button", disabled: true }, "Apply");
    this.copyButton = h("button", { rtnb: "settings-copy", class: "rtnb-btn", type: "button", title: "Show the session.update these settings send, as Python, and copy it" }, "Copy as code");
    this.code = h("pre", { rtnb: "settings-code", class: "rtnb-settings-code", hidden: true });

    this.el = /** @type {HTMLDetailsElement} */ (h(
      "details",
      { rtnb: "settings", class: "rtnb-settings" },
      h("summary", {}, "Session settings"),
      h("div", { class: "rtnb-settings-grid" },
        row("turn", "turn detection"),
        this.rows.threshold, this.rows.prefix_padding_ms, this.rows.silence_duration_ms, this.rows.eagerness,
        h("label", { class: "rtnb-settings-row", "data-field": "transcription", title: HELP.transcription }, h("span", { class: "rtnb-settings-label" }, "transcribe me"), this.fields.transcription, this.fields.transcription_model, this.errors.transcription_model),
        row("voice", "voice"),
        row("output_modalities", "answers as"),
        row("instructions", "instructions"),
      ),
      h("div", { class: "rtnb-row" }, this.applyButton, this.copyButton),
      this.serverError,
      this.code,
    ));

    for (const [name, el] of Object.entries(this.fields)) {
      on(el, el instanceof HTMLSelectElement || (el instanceof HTMLInputElement && el.type === "checkbox") ? "change" : "input", () => {
        this.dirty.add(name);
        this.refreshState();
      });
      on(el, "keydown", (/** @type {KeyboardEvent} */ e) => e.stopPropagation()); // not Jupyter's shortcuts
    }
    on(this.applyButton, "click", () => {
      const update = this.update();
      if (!Object.keys(update).length) return;
      this.apply(update);
      this.dirty.clear();
      this.refreshState();
    });
    on(this.copyButton, "click", () => this.copy());
  }

  /** @returns {SettingsForm} what the form says now */
  read() {
    const f = this.fields;
    return {
      turn: /** @type {SettingsForm["turn"]} */ (f.turn.value),
      threshold: f.threshold.value,
      prefix_padding_ms: f.prefix_padding_ms.value,
      silence_duration_ms: f.silence_duration_ms.value,
      eagerness: f.eagerness.value,
      transcription: f.transcription.checked,
      transcription_model: f.transcription_model.value,
      voice: f.voice.value,
      instructions: f.instructions.value,
      output_modalities: f.output_modalities.value === "text" ? "text" : "audio",
    };
  }

  /** The session.update the form would send now (only what changed). */
  update() {
    return sessionUpdate(this.read(), formFromConfig(this.config, this.options));
  }

  /** @param {SettingsOptions} options the `settings_options` trait */
  setOptions(options) {
    this.options = obj(options);
    this.fill();
  }

  /** @param {Record<string, any>} config the `session_config` trait */
  setConfig(config) {
    this.config = obj(config);
    this.fill();
  }

  /** Put the session's values in every field the person is not editing. */
  fill() {
    const form = formFromConfig(this.config, this.options);
    const f = this.fields;
    setChoices(f.voice, [...(this.options.voices || []), form.voice].filter(Boolean));
    setChoices(f.transcription_model, [...(this.options.transcription_models || []), form.transcription_model]);
    for (const [name, value] of Object.entries(form)) {
      if (this.dirty.has(name)) continue;
      const el = /** @type {any} */ (f)[name];
      if (name === "transcription") el.checked = !!value;
      else if (el.value !== value) el.value = String(value);
    }
    this.refreshState();
  }

  /** Show the fields that apply to the chosen turn detection; enable Apply when it would send. */
  refreshState() {
    const turn = this.fields.turn.value;
    for (const name of ["threshold", "prefix_padding_ms", "silence_duration_ms"]) /** @type {any} */ (this.rows)[name].hidden = turn !== "server_vad";
    this.rows.eagerness.hidden = turn !== "semantic_vad";
    this.fields.transcription_model.disabled = !this.fields.transcription.checked;
    /** @type {HTMLButtonElement} */ (this.applyButton).disabled = !Object.keys(this.update()).length;
    if (!this.code.hidden) this.code.textContent = pythonCode(this.update());
  }

  /** @param {Record<string, string>} errors the `settings_errors` trait */
  setErrors(errors) {
    const e = obj(errors);
    for (const [name, el] of Object.entries(this.errors)) {
      const text = typeof e[name] === "string" ? e[name] : "";
      el.textContent = text;
      el.hidden = !text;
    }
    if (Object.keys(e).length) this.el.open = true;
  }

  copy() {
    const text = pythonCode(this.update());
    this.code.textContent = text;
    this.code.hidden = false;
    const clip = /** @type {any} */ (globalThis.navigator)?.clipboard;
    if (clip && typeof clip.writeText === "function") clip.writeText(text).catch(() => {}); // shown either way
  }
}

/**
 * @param {HTMLSelectElement} select
 * @param {string[]} values
 */
function setChoices(select, values) {
  const unique = [...new Set(values)];
  const now = [...select.options].map((o) => o.value);
  if (JSON.stringify(now) === JSON.stringify(unique)) return;
  const keep = select.value;
  select.replaceChildren(...unique.map((v) => h("option", { value: v }, v)));
  if (unique.includes(keep)) select.value = keep;
}
