-- job status carried by an event (JobEvent.status): shown on events and used to end an SSE stream at a terminal status
ALTER TABLE job_events ADD COLUMN status TEXT;
-- /checkpoints and resume read a job's checkpoint events
CREATE INDEX job_events_checkpoints ON job_events (job_id, seq) WHERE type = 'checkpoint';
