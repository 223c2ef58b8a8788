export interface Migration {
  file: string;
  path: string;
  text: string;
  changes: number;
  manual: string[];
}
export function migrationFor(
  name: string,
  options?: { migrations?: string; schemas?: string; now?: Date },
): Promise<Migration>;
