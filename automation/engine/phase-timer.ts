/**
 * Where an operation's seconds go: named phases, timed by the code that runs them (the queue, the
 * runner, the engine's processes and events), told to whoever listens (the signup bench's
 * breakdown, metrics). Nothing is kept when nobody listens. A sample carries the operation id
 * for joining; its phase and detail are fixed words or resource types, never a tenant id or a
 * secret, so a listener may use them as metric labels.
 */
import { performance } from "node:perf_hooks";

export interface PhaseSample {
  operationId: string;
  /** e.g. "queue pickup", "config writes", "engine start", "resource create+await". */
  phase: string;
  /** performance.now() at the phase's start (this process's clock). */
  startMs: number;
  ms: number;
  /** CPU milliseconds, when measured (e.g. an engine process and its plugins). */
  cpuMs?: number;
  /** A resource type or a CLI verb: a fixed word, never an id. */
  detail?: string;
}

export type PhaseListener = (sample: PhaseSample) => void;

const listeners = new Set<PhaseListener>();

/** Listens to every phase of every operation of this process; returns the unsubscribe. */
export function onPhase(listener: PhaseListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function phasesObserved(): boolean {
  return listeners.size > 0;
}

export class PhaseTimer {
  constructor(readonly operationId: string) {}

  record(phase: string, startMs: number, endMs = performance.now(), extra: { detail?: string; cpuMs?: number } = {}): void {
    if (listeners.size === 0) return;
    const sample: PhaseSample = { operationId: this.operationId, phase, startMs, ms: Math.max(0, endMs - startMs), ...extra };
    for (const listener of listeners) {
      try {
        listener(sample);
      } catch {
        // A listener's failure is its own: timing never breaks an operation.
      }
    }
  }

  /** Runs `work`, recording its duration as `phase` whether it succeeds or throws. */
  async time<T>(phase: string, work: () => Promise<T>, detail?: string): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.record(phase, started, performance.now(), detail === undefined ? {} : { detail });
    }
  }
}

/** A timer that records nothing: for callers without an operation. */
export const NO_TIMER = new PhaseTimer("");

/**
 * The timer of the run in progress on each stack (one run per stack: its lock), for code that
 * knows only the stack (the engine's processes, the inline program).
 */
const byStack = new Map<string, PhaseTimer>();

export function bindStack(stackName: string, timer: PhaseTimer): () => void {
  byStack.set(stackName, timer);
  return () => {
    if (byStack.get(stackName) === timer) byStack.delete(stackName);
  };
}

export function timerOfStack(stackName: string): PhaseTimer | undefined {
  return byStack.get(stackName);
}
