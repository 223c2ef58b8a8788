// The issues found in one scenario file, each placed at the line and column of its JSON path.
import type { JsonPath, ParsedJson } from './json-source.js';
import type { Rule, ScenarioIssue } from './issues.js';

export class IssueList {
  readonly issues: ScenarioIssue[] = [];
  constructor(
    private readonly file: string,
    private readonly source: Pick<ParsedJson, 'positionOf'>,
  ) {}
  add(path: JsonPath, rule: Rule, message: string): void {
    const { line, column } = this.source.positionOf(path);
    this.issues.push({ file: this.file, path, line, column, rule, message });
  }
}
