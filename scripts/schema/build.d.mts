import type { Row } from './catalog.mjs';
export interface Built {
  db: { close(): Promise<void>; exec(sql: string): Promise<unknown> };
  query: (sql: string) => Promise<Row[]>;
}
export const MIGRATIONS_DIR: string;
export const SCHEMAS_DIR: string;
export const SCHEMA_PARTS: string[];
export function schemaFiles(dir?: string): string[];
export function fromMigrations(dir?: string): Promise<Built>;
export function fromSchemas(dir?: string): Promise<Built>;
