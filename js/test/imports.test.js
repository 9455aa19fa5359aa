// The front-end modules import each other without cycles (a cycle makes load order decide
// which binding is undefined at first use). Reads the import statements of js/src/*.js.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const src = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "src");

/** @returns {Map<string, string[]>} module → the local modules it imports */
function graph() {
  const edges = new Map();
  for (const name of readdirSync(src).filter((f) => f.endsWith(".js"))) {
    const text = readFileSync(path.join(src, name), "utf8");
    const deps = [...text.matchAll(/^\s*import\s+(?:[^"';]*?\s+from\s+)?["']\.\/([^"']+)["']/gm)]
      .map((m) => m[1])
      .filter((dep) => dep.endsWith(".js"));
    edges.set(name, deps);
  }
  return edges;
}

/** @returns {string[] | null} one cycle, as a list of modules, or null */
function findCycle(edges) {
  const state = new Map();
  const stack = [];
  const visit = (node) => {
    state.set(node, "open");
    stack.push(node);
    for (const dep of edges.get(node) ?? []) {
      if (state.get(dep) === "open") return [...stack.slice(stack.indexOf(dep)), dep];
      if (!state.has(dep)) {
        const found = visit(dep);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of edges.keys()) {
    if (!state.has(node)) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return null;
}

test("the checker finds a cycle when there is one", () => {
  const edges = new Map([["a.js", ["b.js"]], ["b.js", ["c.js"]], ["c.js", ["a.js"]]]);
  assert.deepEqual(findCycle(edges), ["a.js", "b.js", "c.js", "a.js"]);
  assert.equal(findCycle(new Map([["a.js", ["b.js"]], ["b.js", []]])), null);
});

test("js/src has no import cycle", () => {
  const edges = graph();
  assert.ok(edges.get("controls.js")?.includes("meters.js"), "the graph was read");
  assert.equal(findCycle(edges), null);
});
