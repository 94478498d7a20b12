-- SSE streams are pushed, not polled: every stored job event, and every job reaching a terminal status, notifies
-- channel foundry_job_events with the job id; each job-api instance LISTENs and reads only the jobs it streams.
CREATE FUNCTION notify_job_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('foundry_job_events', NEW.job_id);
    RETURN NULL;
END $$;
CREATE TRIGGER job_events_notify AFTER INSERT ON job_events FOR EACH ROW EXECUTE FUNCTION notify_job_event();

CREATE FUNCTION notify_job_finished() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('foundry_job_events', NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER jobs_finished_notify AFTER UPDATE OF status ON jobs FOR EACH ROW
    WHEN (NEW.status IN ('succeeded', 'failed', 'cancelled') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION notify_job_finished();
