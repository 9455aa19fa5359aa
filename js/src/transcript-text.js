// The transcript's words: how a bubble reads (heard vs generated, roles, tool calls). Pure
// text, no DOM: node-tested. The view is transcript.js.

/**
 * One bubble. `kind` is "message" (default) or a tool call ("function_call", "mcp_call") with
 * its `name`, `arguments`, and `output` or `error` once answered; `turn` is the conversation
 * turn the item belongs to (as in the table's turn column).
 * @typedef {{item_id: string, role: string, text: string, heard: string|null,
 *   interrupted: boolean, status: string, turn?: number|null, kind?: string, name?: string,
 *   arguments?: string, output?: string|null, error?: string|null}} Turn
 */

/** Longest arguments/result text a tool bubble shows (the table has the rest). */
export const TOOL_TEXT_MAX = 160;

/**
 * `get_weather({"city":"Paris"})`, clipped.
 * @param {string|undefined} name
 * @param {string|undefined} args
 */
export function toolCallText(name, args) {
  if (args === undefined && name && name.includes("(")) return name; // already a call
  const call = `${name || "?"}(${args || ""})`;
  return call.length <= TOOL_TEXT_MAX ? call : `${call.slice(0, TOOL_TEXT_MAX - 1)}…`;
}

/**
 * What a tool bubble says about the result.
 * @param {Turn} turn
 * @returns {{text: string, failed: boolean}}
 */
export function toolResultText(turn) {
  if (turn.error) return { text: `failed: ${turn.error}`, failed: true };
  if (turn.output === undefined && turn.arguments === undefined) {
    // the kernel's one-line form: `name(arguments) → output` (client_protocol.transcript_entries)
    const arrow = (turn.text || "").indexOf(" → ");
    const out = arrow >= 0 ? turn.text.slice(arrow + 3) : "";
    return { text: out && out !== "…" ? out : "waiting for the result…", failed: /^\{?"?error/.test(out) };
  }
  if (turn.output == null) return { text: turn.status === "completed" ? "waiting for the result…" : "…", failed: false };
  const out = String(turn.output);
  return { text: out.length <= TOOL_TEXT_MAX ? out : `${out.slice(0, TOOL_TEXT_MAX - 1)}…`, failed: false };
}

/** @param {Turn} turn */
export function isToolCall(turn) {
  return turn.kind === "function_call" || turn.kind === "mcp_call" || turn.role === "tool";
}

/**
 * Split an interrupted turn into the part that was heard and the part that was not.
 * `heard` is normally a prefix of `text` (cut back to a word boundary by the kernel).
 * @param {string} text
 * @param {string|null|undefined} heard
 * @param {boolean} interrupted
 * @returns {{heard: string, unheard: string}}
 */
export function splitHeard(text, heard, interrupted) {
  text = text || "";
  if (!interrupted || heard == null) return { heard: text, unheard: "" };
  if (text.startsWith(heard)) return { heard, unheard: text.slice(heard.length) };
  // not a prefix (the transcript was edited by the server): show both whole
  return { heard, unheard: text ? ` [generated: ${text}]` : "" };
}

/** @param {string} role */
export function roleLabel(role) {
  if (role === "user") return "you";
  if (role === "assistant") return "assistant";
  return role || "?";
}
