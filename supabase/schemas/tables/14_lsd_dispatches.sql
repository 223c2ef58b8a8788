create table if not exists lsd_dispatches (
  id bigint generated always as identity,
  decided_at timestamp with time zone not null,
  origin text default 'cron'::text not null,
  reasons jsonb default '[]'::jsonb not null,
  status text default 'requested'::text not null,
  http_status integer,
  answer text,
  retry_at timestamp with time zone,
  answered_at timestamp with time zone,
  constraint lsd_dispatches_status CHECK ((status = ANY (ARRAY['requested'::text, 'started'::text, 'refused'::text, 'rate_limited'::text, 'failed'::text]))),
  constraint lsd_dispatches_pkey PRIMARY KEY (id)
);
alter table lsd_dispatches enable row level security;
comment on table lsd_dispatches is 'Each start the dispatcher decided: when, why, and GitHub''s answer (started: 204; refused: 401/403/404/422, answer says what to fix; rate_limited: retry_at; failed: no answer or 5xx).';
CREATE INDEX lsd_dispatches_decided ON public.lsd_dispatches USING btree (decided_at DESC);
