// Pure analysis: a topology snapshot in, the winning problem and the plan to run out.
import { PROBLEMS, errantMap, type AnalysisContext, type ProblemCode } from './problems.js';
import { noPlan, type Plan } from './plan.js';
import { primaryOf } from './derive.js';
import type { TopologySnapshot } from './snapshot.js';

export interface DetectedProblem {
  code: ProblemCode;
  description: string;
  priority: number;
  instanceId: string | null;
  detail: string;
  plan: Plan;
}

export interface Analysis {
  /** The highest-priority problem, or null when the topology is healthy. */
  problem: DetectedProblem | null;
  /** Every problem found, highest priority first. */
  problems: DetectedProblem[];
  /** The one action to take now: the first actionable problem, unless a blocking one comes before it. */
  plan: Plan;
  errant: Record<string, string[]>;
}

export function analyze(s: TopologySnapshot): Analysis {
  const ctx: AnalysisContext = { s, primary: primaryOf(s), errant: errantMap(s) };
  const problems: DetectedProblem[] = [];
  let plan: Plan | undefined;
  for (const p of [...PROBLEMS].sort((a, b) => b.priority - a.priority)) {
    for (const m of p.matches(ctx)) {
      problems.push({ code: p.code, description: p.description, priority: p.priority, ...m });
      if (plan === undefined && (m.plan.action !== 'none' || p.blocking)) plan = m.plan;
    }
  }
  return { problem: problems[0] ?? null, problems, plan: plan ?? noPlan('healthy'), errant: ctx.errant };
}
