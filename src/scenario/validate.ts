// Validates one scenario file: JSON syntax, the schema, then the rules a schema cannot
// say (the step graph, timing, placeholders, time zones, actions). Every issue names the
// file, the JSON path and line, and how to fix it. Each concern has its own module:
// validate-graph, validate-timing, validate-conditions, validate-messages, validate-actions,
// validate-text (every string and name), validate-tags.
import { ScenarioSchema, type Scenario } from './schema.js';
import { parseJsonWithPositions, JsonSyntaxError, type JsonPath, type ParsedJson } from './json-source.js';
import { didYouMean } from './suggest.js';
import { isValidTimeZone, knownTimeZones } from '../time/zoned.js';
import type { ScenarioIssue } from './issues.js';
import { IssueList } from './issue-list.js';
import { describeZodIssue, valueAt } from './zod-issues.js';
import { checkGraph } from './validate-graph.js';
import { checkTiming, checkWindow } from './validate-timing.js';
import { checkCondition, checkDuration, checkFilter } from './validate-conditions.js';
import { checkMessages } from './validate-messages.js';
import { checkActions } from './validate-actions.js';
import { checkText } from './validate-text.js';
import { checkTags } from './validate-tags.js';
import { checkReply } from './validate-reply.js';
import { checkPostbacks } from './validate-postbacks.js';
import { checkHoldout } from './validate-holdout.js';

export interface FileResult {
  file: string;
  scenario?: Scenario;
  issues: ScenarioIssue[];
  /** Where a JSON path of the file is (for checks made later, such as the rich menus on LINE). */
  positionOf?: ParsedJson['positionOf'];
}

/** The scenario-wide rules: time zone, send window, entry and exit conditions, goal. */
function checkScenarioLevel(list: IssueList, scenario: Scenario): void {
  const tz = scenario.timezone;
  if (tz !== undefined && !isValidTimeZone(tz)) {
    list.add(
      ['timezone'],
      'timezone',
      `"${tz}" is not an IANA time zone.${didYouMean(tz, knownTimeZones())} Examples: "Asia/Tokyo", "America/New_York".`,
    );
  }
  checkWindow(list, scenario.sendWindow, ['sendWindow']);
  const trigger = scenario.entry.trigger;
  if (trigger.type === 'event') checkFilter(list, trigger.where, ['entry', 'trigger', 'where']);
  if (trigger.type === 'audience') checkCondition(list, trigger.condition, ['entry', 'trigger', 'condition']);
  if (scenario.entry.audience) checkCondition(list, scenario.entry.audience, ['entry', 'audience']);
  scenario.exit?.forEach((rule, i) => checkFilter(list, rule.where, ['exit', i, 'where']));
  checkDuration(list, scenario.goal?.within, ['goal', 'within']);
}

export function validateScenarioObject(file: string, source: ParsedJson): FileResult {
  const list = new IssueList(file, source);
  // Every string and name as written, before the schema (which drops a "__proto__" name).
  checkText(list, source.value);
  const parsed = ScenarioSchema.safeParse(source.value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path: JsonPath = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const described = describeZodIssue(issue, valueAt(source.value, issue.path));
      list.add(path, described.rule, described.message);
    }
    return { file, issues: list.issues };
  }
  const scenario = parsed.data;
  checkScenarioLevel(list, scenario);
  checkGraph(list, scenario);
  checkTiming(list, scenario);
  checkMessages(list, scenario);
  checkActions(list, scenario);
  checkTags(list, scenario);
  checkReply(list, scenario);
  checkPostbacks(list, scenario);
  checkHoldout(list, scenario);
  if (list.issues.length) return { file, issues: list.issues };
  return { file, scenario, issues: [], positionOf: (path) => source.positionOf(path) };
}

/** Validates the text of one scenario file. */
export function validateScenarioText(file: string, text: string): FileResult {
  let source: ParsedJson;
  try {
    source = parseJsonWithPositions(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      return {
        file,
        issues: [{ file, path: [], ...e.position, rule: 'json-syntax', message: `invalid JSON: ${e.message}.` }],
      };
    }
    throw e;
  }
  return validateScenarioObject(file, source);
}
