/**
 * What the local cluster's processes are connected to, read from /proc: each process's network
 * namespace and the remote address of every TCP/UDP socket it holds (from the socket tables of
 * its own namespace). Used to prove that nothing the cluster runs talks to an address outside
 * loopback and the namespaces the set-up made.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface SocketUse {
  pid: number;
  command: string;
  netns: string;
  proto: string;
  local: string;
  remote: string;
}

function hexToIPv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join(".");
}

/** /proc/net/tcp6 address: four little-endian 32-bit words. IPv4-mapped ones come back as IPv4. */
function hexToIPv6(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(Number.parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

function address(field: string, v6: boolean): string {
  const [ip = "", port = "0"] = field.split(":");
  return `${v6 ? hexToIPv6(ip) : hexToIPv4(ip)}:${Number.parseInt(port, 16)}`;
}

/** inode -> [local, remote] for one socket table of a process's network namespace. */
function socketTable(pid: number, proto: string): Map<string, [string, string]> {
  const table = new Map<string, [string, string]>();
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/net/${proto}`, "utf8");
  } catch {
    return table;
  }
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const v6 = proto.endsWith("6");
    table.set(f[9]!, [address(f[1]!, v6), address(f[2]!, v6)]);
  }
  return table;
}

export function socketsOf(pid: number): SocketUse[] {
  let netns: string;
  let command: string;
  let fds: string[];
  try {
    netns = fs.readlinkSync(`/proc/${pid}/ns/net`);
    command = fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return []; // the process ended meanwhile
  }
  const inodes = new Set<string>();
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch { /* closed meanwhile */ }
  }
  const uses: SocketUse[] = [];
  for (const proto of ["tcp", "tcp6", "udp", "udp6"]) {
    for (const [inode, [local, remote]] of socketTable(pid, proto)) {
      if (inodes.has(inode)) uses.push({ pid, command, netns, proto, local, remote });
    }
  }
  return uses;
}

/** The cgroup subtree of real node N's pods (scripts/local-cluster-node.sh names it from the state dir). */
export function podCgroup(stateDir: string, node = 1): string {
  return `odoo-saas-${createHash("sha256").update(stateDir).digest("hex").slice(0, 8)}${node === 1 ? "" : `-n${node}`}`;
}

function procsBelow(dir: string): number[] {
  const pids: number[] = [];
  if (!fs.existsSync(dir)) return pids;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) pids.push(...procsBelow(path.join(dir, entry.name)));
    else if (entry.name === "cgroup.procs") {
      for (const l of fs.readFileSync(path.join(dir, entry.name), "utf8").split("\n")) if (l.trim() !== "") pids.push(Number(l));
    }
  }
  return pids;
}

/** Every process of the cluster: its components (pid files), every pod process, containerd's shims. */
export function clusterProcesses(stateDir: string, realNodes = 1): number[] {
  const pids = new Set<number>();
  for (const f of fs.readdirSync(path.join(stateDir, "pids"))) pids.add(Number(fs.readFileSync(path.join(stateDir, "pids", f), "utf8").trim()));
  const sockets = new Set<string>();
  for (let n = 1; n <= realNodes; n++) {
    for (const pid of procsBelow(path.join("/sys/fs/cgroup/pids", podCgroup(stateDir, n)))) pids.add(pid);
    sockets.add(path.join(stateDir, n === 1 ? "node" : `node${n}`, "containerd", "containerd.sock"));
  }
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").some((a) => sockets.has(a))) pids.add(Number(entry));
    } catch { /* ended meanwhile */ }
  }
  return [...pids];
}

/** Loopback, the unspecified address, or one of the ranges that live only in the set-up's namespaces. */
export function isInside(remote: string, ranges: ReadonlyArray<[string, number]>): boolean {
  const ip = remote.slice(0, remote.lastIndexOf(":"));
  if (ip === "0.0.0.0" || ip === "::" || ip === "::1" || ip.startsWith("127.")) return true;
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4) return false;
  const value = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  return ranges.some(([base, bits]) => {
    const b = base.split(".").map(Number);
    const baseValue = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (value & mask) === (baseValue & mask);
  });
}
