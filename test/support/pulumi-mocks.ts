/**
 * Pulumi mocks that record what each resource was registered with, so tests assert on the
 * values our code asked for (the real engine is exercised by test/engine).
 */
import * as pulumi from "@pulumi/pulumi";
import { settleRegistrations, unwrapSecrets } from "../../ops/render-stack";

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

export class ResourceRecorder {
  readonly resources: RecordedResource[] = [];

  install(): void {
    pulumi.runtime.setMocks(
      {
        newResource: (args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } => {
          this.resources.push({ type: args.type, name: args.name, inputs: unwrapSecrets(args.inputs) as Record<string, unknown> });
          const state: Record<string, unknown> = { ...args.inputs };
          // A recognisable generated value: tests look for it where it must not be.
          if (args.type === "random:index/randomPassword:RandomPassword") state.result = `MOCKSECRET-${args.name}-x9Q`;
          return { id: `${args.name}-id`, state };
        },
        call: (args: pulumi.runtime.MockCallArgs): Record<string, unknown> => args.inputs as Record<string, unknown>,
      },
      "odoo-saas",
      "dev",
      false,
    );
  }

  reset(): void {
    this.resources.length = 0;
  }

  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  one(type: string, name: string): RecordedResource {
    const found = this.resources.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`no ${type} named ${name}; registered: ${this.resources.map((r) => `${r.type}/${r.name}`).join(", ")}`);
    return found;
  }
}

/** Resolves an Output's value in mock mode. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => { resolve(v); return v; }));
}

/** Waits until every registration the program queued has reached the mock monitor. */
export const settle = settleRegistrations;
