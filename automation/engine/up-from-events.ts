/**
 * `stack.up` without the three CLI processes the Automation API starts after every update
 * (`stack output` twice, `stack history`: each one a new engine that loads the stack and derives
 * the secrets key again). The outputs come from the update's own event stream instead: the
 * stack resource's last outputs event, secrets masked ("[secret]"); the runner reads only
 * plain values from them (secrets are read on demand, `credentials`). When the stream held no
 * outputs the stack's outputs are read as before. Relies on `Stack.up` ending with
 * `this.outputs()` and `this.info()` (@pulumi/pulumi 3.259); the integration suite's "reports
 * its URL" test fails if that changes.
 */
import type { EngineEvent, OutputMap, Stack, UpOptions } from "@pulumi/pulumi/automation";
import { parseUrn } from "./engine-events";

const STACK_TYPE = "pulumi:pulumi:Stack";

/** The stack's outputs from an outputs event of its stack resource, else undefined. */
export function stackOutputsOf(event: EngineEvent): OutputMap | undefined {
  const step = event.resOutputsEvent;
  if (!step || step.planning || parseUrn(step.metadata.urn).type !== STACK_TYPE) return undefined;
  const raw: unknown = step.metadata.new?.outputs;
  if (typeof raw !== "object" || raw === null) return undefined;
  const out: OutputMap = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) out[key] = { value, secret: value === "[secret]" };
  return out;
}

export async function upFromEvents(stack: Stack, opts: UpOptions): Promise<{ outputs: OutputMap }> {
  let outputs: OutputMap | undefined;
  const onEvent = (event: EngineEvent): void => {
    outputs = stackOutputsOf(event) ?? outputs;
    opts.onEvent?.(event);
  };
  // The same stack, with the two follow-up reads answered from the events.
  const lean = Object.create(stack) as Stack;
  Object.defineProperties(lean, {
    outputs: { value: async (): Promise<OutputMap> => outputs ?? (await stack.outputs()) },
    info: { value: async (): Promise<undefined> => undefined },
  });
  const result = await lean.up({ ...opts, onEvent });
  return { outputs: result.outputs };
}
