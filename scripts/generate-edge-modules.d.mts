export const MODULES: { source: string; target: string }[];
export function edgeModule(module: { source: string; target: string }): string;
