export type Row = Record<string, unknown>;
export interface Catalog {
  tables: (Row & { name: string; columns: Row[]; constraints: Row[] })[];
  indexes: (Row & { name: string })[];
  triggers: (Row & { name: string })[];
  functions: (Row & { name: string; signature: string; def: string })[];
}
export function readCatalog(query: (sql: string) => Promise<Row[]>): Promise<Catalog>;
export function comparable(catalog: Catalog): Catalog;
