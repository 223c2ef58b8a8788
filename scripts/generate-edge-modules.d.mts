export interface EdgeModule {
  source: string;
  target: string;
  make: () => string;
}
export const MODULES: EdgeModule[];
export function edgeModule(module: EdgeModule): string;
