/** The text of src/store/migrations.ts for the files in supabase/migrations. */
export function migrationsModule(): string;
