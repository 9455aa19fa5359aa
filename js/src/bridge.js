// Every message between the browser and the kernel, in one place (DESIGN.md §4).
//
// The twin of realtime_nb/bridge.py: same names and fields, kept in step by tests/test_bridge.py.
// Durable UI state lives in traitlets (model.get/set); streams are custom messages listed here.
// Audio is PCM16 little-endian, 24 kHz, mono, in the message buffers (never JSON, never base64).
// Buffers arrive as DataView in Jupyter and as Uint8Array in Colab: use asBytes() to accept both.

export const PROTOCOL_VERSION = 1;

// browser → kernel
export const READY = "ready";
export const MIC_FRAME = "mic_frame";
export const MIC_STATE = "mic_state";
export const PTT = "ptt";
export const PLAYED = "played";
export const COMMAND = "command";
export const GET_EVENT = "get_event";
export const PING = "ping";
export const UPDATE_SESSION = "update_session";

// kernel → browser
export const ROWS = "rows";
export const AUDIO = "audio";
export const FLUSH = "flush";
export const EVENT_JSON = "event_json";
export const PONG = "pong";
export const TURNS = "turns";

export const BROWSER_TO_KERNEL = [READY, MIC_FRAME, MIC_STATE, PTT, PLAYED, COMMAND, GET_EVENT, PING, UPDATE_SESSION];
export const KERNEL_TO_BROWSER = [ROWS, AUDIO, FLUSH, EVENT_JSON, PONG, TURNS];

// play_item, set_speed: a replay of a recording (RealtimeWidget.replay)
export const COMMANDS = ["send_text", "cancel", "clear_log", "set_mode", "set_threshold", "stop_audio", "reconnect", "play_item", "set_speed"];

export const MIC_ERRORS = [
  "insecure_context",
  "no_media_devices",
  "permission_denied",
  "vscode_webview",
  "no_device",
  "device_busy",
  "audio_context",
  "unknown",
];

/**
 * @typedef {{type: "ready", version: number, view_id: string, sample_rate: number,
 *   secure_context: boolean, has_media_devices: boolean, user_agent: string, buffer_kind: string}} Ready
 * @typedef {{type: "mic_frame", seq: number, t_capture: number, level: number}} MicFrame
 * @typedef {{type: "mic_state", state: "off"|"starting"|"on"|"error", error: string|null,
 *   message: string|null, settings: object, context_rate: number}} MicState
 * @typedef {{type: "ptt", action: "press"|"release"}} Ptt
 * @typedef {{type: "played", item_id: string, samples: number, received: number,
 *   reason: "progress"|"interrupted"|"ended", t_first: number|null}} Played
 * @typedef {{type: "command", name: string, args: object}} Command
 * @typedef {{type: "get_event", request_id: number, seq: number, original?: boolean}} GetEvent
 * @typedef {{type: "ping", request_id: number, t: number}} Ping
 * @typedef {{type: "update_session", session: object}} UpdateSession
 * @typedef {{seq: number, last: number, n: number, t: number, dir: "client"|"server"|"local",
 *   type: string, item: string|null, resp: string|null, summary: string, size: number,
 *   audio_ms: number, turn?: number|null}} Row
 * @typedef {{type: "rows", rows: Row[], replace: boolean, total: number,
 *   counts: Record<string, number>, turns?: Record<string, number>}} Rows
 * @typedef {{type: "audio", item_id: string, response_id: string|null, seq: number, restart?: boolean}} Audio
 * @typedef {{type: "flush", reason: "speech_started"|"ptt"|"user"|"cancelled"}} Flush
 * @typedef {{type: "event_json", request_id: number, seq: number, payload: object|null,
 *   error: string|null}} EventJson
 * @typedef {{type: "pong", request_id: number, t: number, t_kernel: number}} Pong
 * @typedef {{type: "turns", turns: import("./timeline.js").TurnData[]}} Turns
 */

/**
 * View a received buffer as bytes, whatever the front end handed us.
 * @param {DataView|Uint8Array|ArrayBuffer} buf
 * @returns {Uint8Array}
 */
export function asBytes(buf) {
  if (buf instanceof Uint8Array) return buf;
  if (buf instanceof ArrayBuffer) return new Uint8Array(buf);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Int16 samples of a PCM16 LE buffer (copied when unaligned, so it never throws).
 * @param {DataView|Uint8Array|ArrayBuffer} buf
 * @returns {Int16Array}
 */
export function asInt16(buf) {
  const bytes = asBytes(buf);
  const n = bytes.byteLength >> 1;
  if (bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, n);
  return new Int16Array(bytes.slice(0, n * 2).buffer);
}

/** @param {unknown} buf */
export function bufferKind(buf) {
  if (buf instanceof DataView) return "DataView";
  if (buf instanceof Uint8Array) return "Uint8Array";
  if (buf instanceof ArrayBuffer) return "ArrayBuffer";
  return typeof buf;
}
