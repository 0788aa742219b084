#!/usr/bin/env node
// Copies only the packages the backup CLI needs (the named roots and everything they depend on,
// resolved the way Node resolves them) from <root>/node_modules to <out>/node_modules, using the
// package-lock.json of <root>. Keeps the image free of Pulumi and the rest of the platform.
// usage: node collect-runtime-deps.js <root> <out> <package>...
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [root, out, ...roots] = process.argv.slice(2);
if (!root || !out || roots.length === 0) {
  console.error("usage: collect-runtime-deps.js <root> <out> <package>...");
  process.exit(2);
}
const packages = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")).packages;

/** The lock path Node would load `name` from when required inside the package at `from`. */
function resolve(from, name) {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ""}node_modules/${name}`;
    if (packages[candidate] && fs.existsSync(path.join(root, candidate))) return candidate;
    if (!base) return undefined;
    const at = base.lastIndexOf("node_modules/");
    base = at <= 0 ? "" : base.slice(0, at - 1);
  }
}

const needed = new Set();
const queue = roots.map((name) => {
  const found = resolve("", name);
  if (!found) throw new Error(`${name} is not installed in ${root}`);
  return found;
});
while (queue.length > 0) {
  const at = queue.pop();
  if (needed.has(at)) continue;
  needed.add(at);
  const entry = packages[at];
  const optional = entry.optionalDependencies || {};
  const peerMeta = entry.peerDependenciesMeta || {};
  for (const deps of [entry.dependencies, optional, entry.peerDependencies]) {
    for (const name of Object.keys(deps || {})) {
      const found = resolve(at, name);
      if (found) queue.push(found);
      else if (!(name in optional) && !(peerMeta[name] && peerMeta[name].optional) && !(entry.peerDependencies && name in entry.peerDependencies)) {
        throw new Error(`${at} needs ${name}, which is not installed`);
      }
    }
  }
}

for (const at of [...needed].sort()) {
  const from = path.join(root, at);
  // Nested node_modules are copied only as far as they are needed themselves.
  fs.cpSync(from, path.join(out, at), { recursive: true, filter: (src) => path.relative(from, src).split(path.sep)[0] !== "node_modules" });
}
console.log(`copied ${needed.size} packages for ${roots.join(", ")}`);
