// The widget model as the front end sees it: anywidget's model type (@anywidget/types) with
// realtime-nb's synced traits (realtime_nb/widget.py, docs/widget-contract.md), so that
// `model.get("muted")` is a boolean to the type checker. Types only: nothing here is bundled.

/**
 * @typedef {{
 *   status: string,
 *   offline: boolean,
 *   endpoint: string,
 *   error: string,
 *   mode: string,
 *   turn_detection: string|null,
 *   vad_threshold: number,
 *   muted: boolean,
 *   mic_state: string,
 *   mic_error: string,
 *   mic_constraints: Record<string, unknown>,
 *   row_cap: number,
 *   _transcript: import("./transcript.js").Turn[],
 *   stats: Record<string, any>,
 *   session_config: Record<string, any>,
 *   settings_options: import("./settings-panel.js").SettingsOptions,
 *   settings_errors: Record<string, string>,
 *   totals: Record<string, any>,
 *   speed: number|null,
 *   replay_source: string,
 *   replay_items: string[],
 * }} Traits
 * @typedef {import("@anywidget/types").AnyModel<Traits>} Model
 * @typedef {"off"|"starting"|"on"|"error"} MicStateName
 */

export {};
