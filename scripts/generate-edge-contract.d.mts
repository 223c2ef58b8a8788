export const SOURCE: string;
export const TARGET: string;
export function edgeContractModule(): string;
