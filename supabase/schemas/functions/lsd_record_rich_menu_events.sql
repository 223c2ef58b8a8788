CREATE OR REPLACE FUNCTION public.lsd_record_rich_menu_events()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $function$
begin
  insert into events (line_user_id, type, properties, occurred_at, source, idempotency_key)
  select d.line_user_id,
         case n.kind when 'richmenu_link' then 'richmenu_linked' else 'richmenu_unlinked' end,
         jsonb_strip_nulls(jsonb_build_object('richMenuId', n.messages->0->>'richMenuId', 'alias', n.messages->0->>'alias',
                                              'scenario', d.scenario_id, 'step', d.step_id)),
         coalesce(n.sent_at, n.updated_at), 'step',
         'step:' || d.enrollment_id || ':' || d.step_id || ':' || lsd_ms(d.due_at) || ':' || n.kind
  from new_rows n
  join old_rows o on o.id = n.id
  join deliveries d on d.batch_id = n.id and d.kind = 'act' and d.status in ('pending', 'sent')
  where n.kind in ('richmenu_link', 'richmenu_unlink') and n.status = 'sent' and o.status is distinct from 'sent'
  order by d.line_user_id
  on conflict (idempotency_key) do nothing;
  return null;
end $function$;
