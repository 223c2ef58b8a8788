create table if not exists report_sent (
  scenario_id text not null,
  step_id text not null,
  aggregation_unit text default ''::text not null,
  bucket timestamp with time zone not null,
  sent bigint default 0 not null,
  failed bigint default 0 not null,
  constraint report_sent_pkey PRIMARY KEY (scenario_id, step_id, aggregation_unit, bucket)
);
alter table report_sent enable row level security;
comment on table report_sent is 'Recipients sent (by sent_at) and refused by LINE (by the time it answered) per scenario, step, aggregation unit (empty for none) and 15-minute bucket: what the report adds up instead of the batches. Kept by triggers on outbox_batches.';
CREATE INDEX report_sent_bucket ON public.report_sent USING btree (bucket);
