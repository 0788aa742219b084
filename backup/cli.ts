#!/usr/bin/env node
// The backup Job's command (image entrypoint: node /app/dist/backup/cli.js).
//   backup [--kind scheduled|on-demand] [--no-prune]   archive the tenant, then apply retention
//   list [--json]                                      the tenant's backups, newest first
//   restore <name>                                     restore one backup (Odoo must be stopped)
//   prune                                              apply retention only
//   cat <name>                                         one complete backup's bytes on stdout (owner downloads from a PVC)
//   restore-upload --max-dump-bytes=N --max-filestore-bytes=N --max-entries=N --max-ratio=N -
//                                                      an owner's Odoo database zip from stdin, checked, into a new or empty instance
// All settings come from environment variables (see backup/README.md); nothing is read from a
// shell and no secret is ever printed.
import { pipeline } from "node:stream/promises";
import { parseBackupName } from "./backup-name";
import { ConfigError, readBackupConfig, readCommonConfig, readRestoreConfig, redact, secretValues } from "./config";
import { BackupListing, LIST_FORMAT, listBackups } from "./list-backups";
import { formatBytes, stderrLog } from "./progress";
import { restoreBackup } from "./restore/restore-backup";
import { restoreUploadCommand, UPLOAD_LIMIT_FLAGS } from "./import/restore-upload-command";
import { pruneBackups } from "./retention";
import { runBackup } from "./run-backup";
import { openStore } from "./store/open-store";

const USAGE = `usage: cli.js backup [--kind scheduled|on-demand] [--no-prune] | list [--json] | restore <name> | prune | cat <name> | restore-upload --max-dump-bytes=N --max-filestore-bytes=N --max-entries=N --max-ratio=N -`;

class UsageError extends Error {}

interface ParsedArgs {
  command: string;
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(argv: readonly string[]): ParsedArgs {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError(USAGE);
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === "--") {
      positional.push(...rest.slice(i + 1));
      break;
    }
    if (arg === "--kind") {
      const value = rest[++i];
      if (value === undefined) throw new UsageError("--kind needs a value: scheduled or on-demand");
      flags.set("kind", value);
    } else if (arg.startsWith("--kind=")) flags.set("kind", arg.slice("--kind=".length));
    else if (arg === "--no-prune" || arg === "--json") flags.set(arg.slice(2), true);
    else if (/^--max-(dump-bytes|filestore-bytes|entries|ratio)=[0-9]{1,16}$/.test(arg)) flags.set(arg.slice(2, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1));
    else if (arg === "-") positional.push(arg);
    else if (arg.startsWith("--")) throw new UsageError(`unknown option ${arg}\n${USAGE}`);
    else positional.push(arg);
  }
  return { command, positional, flags };
}

function expectArgs(args: ParsedArgs, allowedFlags: string[], positionals: number): void {
  for (const flag of args.flags.keys()) {
    if (!allowedFlags.includes(flag)) throw new UsageError(`${args.command} does not take --${flag}\n${USAGE}`);
  }
  if (args.positional.length !== positionals) throw new UsageError(USAGE);
}

function listingJson(tenant: string, listings: BackupListing[]): string {
  return JSON.stringify({
    format: LIST_FORMAT,
    tenant,
    backups: listings.map((b) => ({
      name: b.name,
      kind: b.kind,
      created: b.created.toISOString(),
      size: b.size,
      status: b.status,
      modified: b.modified.toISOString(),
    })),
  });
}

function listingTable(listings: BackupListing[]): string {
  const rows = [["NAME", "STATUS", "SIZE", "CREATED"], ...listings.map((b) => [b.name, b.status, formatBytes(b.size), b.created.toISOString()])];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows.map((row) => row.map((cell, col) => cell.padEnd(widths[col]!)).join("  ").trimEnd()).join("\n");
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const args = parseArgs(argv);
  switch (args.command) {
    case "backup": {
      expectArgs(args, ["kind", "no-prune"], 0);
      const kind = args.flags.get("kind");
      const config = readBackupConfig(env, typeof kind === "string" ? kind : undefined);
      const log = stderrLog(`backup ${config.tenant}`);
      const store = openStore(config.store, config.tenant);
      const result = await runBackup(config, store, { log });
      process.stdout.write(`${result.name}\n`);
      if (!args.flags.has("no-prune")) {
        await pruneBackups(store, { ...config.retention, incompleteGraceMs: config.incompleteGraceMs }, new Date(), log);
      }
      return 0;
    }
    case "list": {
      expectArgs(args, ["json"], 0);
      const config = readCommonConfig(env);
      const listings = await listBackups(openStore(config.store, config.tenant));
      process.stdout.write(`${args.flags.has("json") ? listingJson(config.tenant, listings) : listingTable(listings)}\n`);
      return 0;
    }
    case "restore": {
      expectArgs(args, [], 1);
      const config = readRestoreConfig(env);
      const log = stderrLog(`restore ${config.tenant}`);
      const result = await restoreBackup(config, openStore(config.store, config.tenant), args.positional[0]!, { log });
      process.stdout.write(`restored ${result.name} into database ${JSON.stringify(result.database)} and ${result.filestoreDir}\n`);
      return 0; // clean-up warnings were logged; the restore itself succeeded
    }
    case "prune": {
      expectArgs(args, [], 0);
      const config = readCommonConfig(env);
      const log = stderrLog(`prune ${config.tenant}`);
      await pruneBackups(openStore(config.store, config.tenant), { ...config.retention, incompleteGraceMs: config.incompleteGraceMs }, new Date(), log);
      return 0;
    }
    case "cat": {
      expectArgs(args, [], 1);
      const config = readCommonConfig(env);
      const name = args.positional[0]!;
      // Only this tenant's own backup names, and only complete ones: never a leftover or a stray file.
      if (!parseBackupName(config.tenant, name)) throw new UsageError(`${JSON.stringify(name)} is not a backup name of ${config.tenant}`);
      const store = openStore(config.store, config.tenant);
      const listed = (await listBackups(store)).find((b) => b.name === name && b.status === "complete");
      if (listed === undefined) throw new Error(`${name} is not a complete backup of ${config.tenant}`);
      await pipeline(await store.getStream(name), process.stdout);
      return 0;
    }
    case "restore-upload": {
      expectArgs(args, [...UPLOAD_LIMIT_FLAGS], 1);
      if (args.positional[0] !== "-") throw new UsageError(`restore-upload reads the zip from stdin: pass -\n${USAGE}`);
      const limit = (flag: (typeof UPLOAD_LIMIT_FLAGS)[number]): number => {
        const value = args.flags.get(flag);
        if (typeof value !== "string" || Number(value) <= 0) throw new UsageError(`restore-upload needs --${flag}=<positive number>`);
        return Number(value);
      };
      return restoreUploadCommand(readRestoreConfig(env), env, {
        maxDumpBytes: limit("max-dump-bytes"),
        maxFilestoreBytes: limit("max-filestore-bytes"),
        maxEntries: limit("max-entries"),
        maxCompressionRatio: limit("max-ratio"),
      });
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(args.command)}\n${USAGE}`);
  }
}

if (require.main === module) {
  const secrets = secretValues(process.env);
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`error: ${redact(message, secrets)}\n`);
      process.exitCode = err instanceof ConfigError || err instanceof UsageError ? 2 : 1;
    },
  );
}
