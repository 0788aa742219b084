/**
 * The locally built backup image (scripts/build-images.sh backup, images/backup/recipe.sh) holds
 * what images/backup/Dockerfile describes, read from the OCI archive the node imported:
 * - the image config: ENTRYPOINT, CMD, USER, WORKDIR and ENV as the Dockerfile's final stage
 *   sets them (ARG PG_MAJOR's default substituted);
 * - /app/dist: exactly the compiled dist/backup without k8s/ (source maps aside), plus
 *   dist/tenants/tenant-id.js, byte for byte;
 * - /app/node_modules: exactly what collect-runtime-deps.js collects for the Dockerfile's package
 *   list (the recipe's list is the same), byte for byte;
 * - postgresql-client-<PG_MAJOR> and ca-certificates installed; user and group odoo-backup 10001;
 *   Node.js 20 at /usr/local/bin/node, where the node image has it.
 * What differs, by design (no registry is reachable): the base is Debian bookworm from debootstrap,
 * not node:20-bookworm-slim, so npm and yarn are absent, and node is this machine's Node.js 20.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { repoRoot } from "../../automation/engine/engine-env";

// Reads the one-layer OCI archive: config, /app files with SHA-256, and a few system facts.
const READ_IMAGE = `
import hashlib, json, sys, tarfile
outer = tarfile.open(sys.argv[1])
blob = lambda d: outer.extractfile("blobs/sha256/" + d.split(":")[1])
index = json.load(outer.extractfile("index.json"))
manifest = json.load(blob(index["manifests"][0]["digest"]))
config = json.load(blob(manifest["config"]["digest"]))["config"]
files, facts = {}, {"packages": []}
with tarfile.open(fileobj=blob(manifest["layers"][0]["digest"]), mode="r|") as layer:
    for m in layer:
        name = m.name.lstrip("./")
        if not m.isfile():
            continue
        if name.startswith("app/") or name in ("etc/passwd", "etc/group", "var/lib/dpkg/status", "usr/local/bin/node"):
            data = layer.extractfile(m).read()
            files[name] = hashlib.sha256(data).hexdigest()
            if name in ("etc/passwd", "etc/group"):
                facts[name] = [l for l in data.decode().splitlines() if l.startswith("odoo-backup:")]
            if name == "var/lib/dpkg/status":
                for para in data.decode().split("\\n\\n"):
                    fields = dict(l.split(": ", 1) for l in para.splitlines() if ": " in l and not l.startswith(" "))
                    if fields.get("Status") == "install ok installed":
                        facts["packages"].append(fields["Package"])
print(json.dumps({"config": config, "files": files, "facts": facts}))
`;

interface ImageView { config: Record<string, unknown>; files: Record<string, string>; facts: { packages: string[]; "etc/passwd": string[]; "etc/group": string[] } }

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** Every regular file below DIR as `<prefix><relative path>` -> SHA-256. */
function tree(dir: string, prefix: string, keep: (rel: string) => boolean = () => true): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const rel = path.relative(dir, path.join(entry.parentPath, entry.name));
    if (keep(rel)) out[`${prefix}${rel}`] = sha256(path.join(dir, rel));
  }
  return out;
}

/** The Dockerfile's final stage: its instructions, continuation lines joined. */
function finalStage(dockerfile: string): string[] {
  const lines = dockerfile.replace(/\\\n\s*/g, " ").split("\n").filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
  const from = lines.map((l, i) => (l.startsWith("FROM ") ? i : -1)).filter((i) => i >= 0).at(-1) ?? 0;
  return lines.slice(from);
}

describe("real node: the locally built backup image holds what images/backup/Dockerfile describes", function () {
  this.timeout(120_000);

  it("config, /app, runtime packages, PostgreSQL client, user and Node.js 20 as the Dockerfile says", () => {
    const repo = repoRoot();
    const archive = execFileSync(path.join(repo, "scripts", "build-images.sh"), ["archive", "backup"], { encoding: "utf8" }).trim();
    const read = spawnSync("python3", ["-c", READ_IMAGE, archive], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    expect(read.status, read.stderr).to.equal(0);
    const image = JSON.parse(read.stdout) as ImageView;

    const stage = finalStage(fs.readFileSync(path.join(repo, "images", "backup", "Dockerfile"), "utf8"));
    const pgMajor = /^ARG PG_MAJOR=(\d+)$/m.exec(stage.join("\n"))?.[1];
    expect(pgMajor).to.match(/^\d+$/);
    const arg = (text: string) => text.replace(/\$\{PG_MAJOR\}/g, pgMajor!);
    const instruction = (name: string) => stage.filter((l) => l.startsWith(`${name} `)).map((l) => arg(l.slice(name.length + 1).trim()));
    expect(image.config.Entrypoint).to.deep.equal(JSON.parse(instruction("ENTRYPOINT")[0]!));
    expect(image.config.Cmd).to.deep.equal(JSON.parse(instruction("CMD")[0]!));
    expect(image.config.User).to.equal(instruction("USER")[0]);
    expect(image.config.WorkingDir).to.equal(instruction("WORKDIR")[0]);
    const env = instruction("ENV").flatMap((l) => l.split(/\s+/));
    expect(env.length).to.be.greaterThan(0);
    expect(image.config.Env).to.include.members(env);

    // /app/dist: the compiled CLI without the platform-side k8s helpers, and the tenant-id rule.
    const dist = { ...tree(path.join(repo, "dist", "backup"), "app/dist/backup/", (rel) => !rel.startsWith("k8s/") && !rel.endsWith(".map")), "app/dist/tenants/tenant-id.js": sha256(path.join(repo, "dist", "tenants", "tenant-id.js")) };
    const inImage = (prefix: string) => Object.fromEntries(Object.entries(image.files).filter(([k]) => k.startsWith(prefix)));
    expect(inImage("app/dist/")).to.deep.equal(dist);

    // /app/node_modules: the Dockerfile's package list, collected now from the same lock file.
    const dockerPackages = /RUN node collect-runtime-deps\.js \/src \/out (.+)$/m.exec(fs.readFileSync(path.join(repo, "images", "backup", "Dockerfile"), "utf8"))?.[1]?.trim().split(/\s+/);
    const recipePackages = /collect-runtime-deps\.js" "\$repo" "\$root\/app" (.+?) >/.exec(fs.readFileSync(path.join(repo, "images", "backup", "recipe.sh"), "utf8"))?.[1]?.trim().split(/\s+/);
    expect(recipePackages).to.deep.equal(dockerPackages);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "backup-deps-"));
    try {
      execFileSync("node", [path.join(repo, "images", "backup", "collect-runtime-deps.js"), repo, out, ...dockerPackages!], { stdio: "pipe" });
      expect(inImage("app/node_modules/")).to.deep.equal(tree(path.join(out, "node_modules"), "app/node_modules/"));
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }

    expect(image.facts.packages).to.include.members([`postgresql-client-${pgMajor}`, "ca-certificates"]);
    expect(image.facts["etc/passwd"]).to.deep.equal(["odoo-backup:x:10001:10001::/nonexistent:/usr/sbin/nologin"]);
    expect(image.facts["etc/group"]).to.deep.equal(["odoo-backup:x:10001:"]);
    expect(/^ARG NODE_IMAGE=node:(\d+)-bookworm-slim$/m.exec(fs.readFileSync(path.join(repo, "images", "backup", "Dockerfile"), "utf8"))?.[1]).to.equal("20");
    expect(image.files["usr/local/bin/node"]).to.equal(sha256(process.execPath));
    expect(process.version).to.match(/^v20\./);
  });
});
