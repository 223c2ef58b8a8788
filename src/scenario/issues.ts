import { formatJsonPath, type JsonPath } from './json-source.js';

export type Rule =
  | 'json-syntax'
  | 'schema'
  | 'unknown-property'
  | 'duplicate-scenario'
  | 'duplicate-step'
  | 'reserved-step-id'
  | 'unknown-step'
  | 'unreachable-step'
  | 'loop-without-delay'
  | 'branch-without-default'
  | 'one-operator'
  | 'empty-duration'
  | 'timing'
  | 'timezone'
  | 'send-window'
  | 'placeholder'
  | 'trigger-date'
  | 'scenario-removed'
  | 'action'
  | 'rich-menu'
  /** A string the store cannot hold, or one that shows what is not there (validate-text.ts). */
  | 'text'
  /** A tag not in its one stored form, or two tags told apart only by case (validate-tags.ts). */
  | 'tag'
  /** More than one step may do (validate-actions.ts: STEP_BOUNDS). */
  | 'step-bounds'
  /** A step marked "reply": true that cannot go as the reply to a follow (validate-reply.ts). */
  | 'reply'
  /** Postback data the webhook's grammar would set aside (validate-postbacks.ts). */
  | 'postback'
  /** A holdout group that cannot measure anything (validate-holdout.ts). */
  | 'holdout'
  /** A coupon id the LINE channel does not have (validate --line: src/line/coupons-on-line.ts). */
  | 'coupon';

/** One problem found in a scenario file: where it is and how to fix it. */
export interface ScenarioIssue {
  file: string;
  path: JsonPath;
  line: number;
  column: number;
  rule: Rule;
  /** What is wrong and what to do, in one or two plain sentences. */
  message: string;
}

/** An issue at a JSON path of a loaded file (line 1, column 1 when its positions are unknown). */
export function issueAt(
  source: { file: string; positionOf?: ((path: JsonPath) => { line: number; column: number }) | undefined },
  path: JsonPath,
  rule: Rule,
  message: string,
): ScenarioIssue {
  const { line, column } = source.positionOf?.(path) ?? { line: 1, column: 1 };
  return { file: source.file, path, line, column, rule, message };
}

export function formatIssue(issue: ScenarioIssue): string {
  return `${issue.file}:${issue.line}:${issue.column} ${formatJsonPath(issue.path)}: ${issue.message} [${issue.rule}]`;
}
