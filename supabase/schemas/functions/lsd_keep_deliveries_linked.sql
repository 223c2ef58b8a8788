CREATE OR REPLACE FUNCTION public.lsd_keep_deliveries_linked()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $function$
begin
  if tg_table_name = 'enrollments' and exists (select 1 from gone g join deliveries d on d.enrollment_id = g.id) then
    raise foreign_key_violation using message = 'these enrollments have deliveries: delete the deliveries first (they record what each user was sent)';
  end if;
  if tg_table_name = 'outbox_batches' and exists (select 1 from gone g join deliveries d on d.batch_id = g.id) then
    raise foreign_key_violation using message = 'these outbox batches have deliveries: delete the deliveries first (they record what each user was sent)';
  end if;
  return null;
end $function$;
