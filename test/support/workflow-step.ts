// A workflow's step of this action as the runner would run it: the `with:` block of the step
// whose uses: names line-step-delivery, its ${{ }} expressions evaluated from the secrets,
// variables and inputs given (an expression of another form fails the test: the workflow
// grew something this stand-in does not know).

export interface WorkflowContext {
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  /** workflow_dispatch inputs; a scheduled run has none. */
  inputs?: Record<string, string>;
}

function evaluate(expression: string, ctx: WorkflowContext): string {
  const ref = (path: string): string => {
    const [scope, name] = path.split('.') as [string, string];
    const from =
      scope === 'secrets' ? ctx.secrets : scope === 'vars' ? ctx.vars : scope === 'inputs' ? ctx.inputs : undefined;
    if (!from && !['secrets', 'vars', 'inputs'].includes(scope)) throw new Error(`unknown expression ${expression}`);
    return from?.[name] ?? '';
  };
  const either = /^([a-z]+\.[A-Za-z0-9_-]+)\s*\|\|\s*'([^']*)'$/.exec(expression);
  if (either) return ref(either[1]!) || either[2]!;
  if (/^[a-z]+\.[A-Za-z0-9_-]+$/.test(expression)) return ref(expression);
  throw new Error(`unknown expression ${expression}`);
}

/** The inputs the action gets from the workflow's step that uses it (the first such step). */
export function actionInputs(workflow: string, ctx: WorkflowContext): Record<string, string> {
  const lines = workflow.split('\n');
  const at = lines.findIndex((l) => /^\s*-?\s*uses:\s*\S+\/line-step-delivery@/.test(l));
  if (at < 0) throw new Error('no step uses line-step-delivery');
  const withLine = lines[at + 1]!;
  if (withLine.trim() !== 'with:') throw new Error(`the step's next line is not with: (${withLine})`);
  const indent = /^\s*/.exec(withLine)![0].length;
  const inputs: Record<string, string> = {};
  for (const line of lines.slice(at + 2)) {
    if (line.trim() === '' || /^\s*#/.test(line)) continue;
    if (/^\s*/.exec(line)![0].length <= indent) break;
    const m = /^\s*([a-z0-9-]+):\s*(.*?)\s*(?:#.*)?$/.exec(line);
    if (!m) throw new Error(`cannot read the with: line ${line}`);
    const raw = m[2]!.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
    inputs[m[1]!] = raw.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, e: string) => evaluate(e, ctx));
  }
  return inputs;
}
