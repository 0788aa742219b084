/**
 * A worker process for the queue tests that kill one: the real OperationQueue on
 * DATABASE_URL with a RecordingRunner journalling to QUEUE_JOURNAL; each run takes
 * QUEUE_DELAY_MS; with QUEUE_STACK_LOCK=1 each run holds its stack's lock (LockedRunner).
 * Prints "queue worker ready" once its workers are registered.
 */
import { jsonLogger, Redactor } from "../../automation/log";
import { OperationQueue } from "../../automation/queue/operation-queue";
import { PgOperationEvents } from "../../automation/records/event-log";
import { RecordsStore } from "../../automation/records/records-store";
import { StackLocks } from "../../automation/engine/stack-lock";
import { LockedRunner, RecordingRunner } from "./recording-runner";

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const journal = process.env.QUEUE_JOURNAL;
  if (url === undefined || journal === undefined) throw new Error("DATABASE_URL and QUEUE_JOURNAL are required");
  const log = jsonLogger(new Redactor(), { write: (line) => process.stderr.write(line) });
  const store = await RecordsStore.open(url);
  const events = new PgOperationEvents(store.pool, log);
  const recording = new RecordingRunner(undefined, Number(process.env.QUEUE_DELAY_MS ?? "0"), journal);
  const runner = process.env.QUEUE_STACK_LOCK === "1" ? new LockedRunner(new StackLocks({ connectionString: url }), recording, journal) : recording;
  const queue = new OperationQueue({
    store, events, log, concurrency: 2, pollIntervalMs: 200, heartbeatMs: 200, staleAfterMs: 1_500,
    runner,
  });
  await queue.start();
  process.stdout.write("queue worker ready\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`queue worker: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
