/**
 * A worker process for the queue tests that kill one: the real OperationQueue on
 * DATABASE_URL with a RecordingRunner journalling to QUEUE_JOURNAL; each run takes
 * QUEUE_DELAY_MS. Prints "queue worker ready" once its workers are registered.
 */
import { jsonLogger, Redactor } from "../../automation/log";
import { OperationQueue } from "../../automation/queue/operation-queue";
import { PgOperationEvents } from "../../automation/records/event-log";
import { RecordsStore } from "../../automation/records/records-store";
import { RecordingRunner } from "./recording-runner";

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const journal = process.env.QUEUE_JOURNAL;
  if (url === undefined || journal === undefined) throw new Error("DATABASE_URL and QUEUE_JOURNAL are required");
  const log = jsonLogger(new Redactor(), { write: (line) => process.stderr.write(line) });
  const store = await RecordsStore.open(url);
  const events = new PgOperationEvents(store.pool, log);
  const queue = new OperationQueue({
    store, events, log, concurrency: 2, pollIntervalMs: 200, heartbeatMs: 200, staleAfterMs: 1_500,
    runner: new RecordingRunner(undefined, Number(process.env.QUEUE_DELAY_MS ?? "0"), journal),
  });
  await queue.start();
  process.stdout.write("queue worker ready\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`queue worker: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
