export interface ActionField {
  name: string;
  description?: string;
  required?: string;
  default?: string;
}
export function parseActionYml(text: string): { inputs: ActionField[]; outputs: ActionField[] };
export function actionTables(yml: string): { inputs: string; outputs: string };
export function readmeWithActionTables(readme: string, yml: string): string;
