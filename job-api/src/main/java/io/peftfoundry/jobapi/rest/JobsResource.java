package io.peftfoundry.jobapi.rest;

import io.peftfoundry.support.paging.Page;
import io.peftfoundry.support.paging.PageRequest;
import io.peftfoundry.support.problem.ProblemException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.Problem;
import io.peftfoundry.support.auth.Caller;
import io.peftfoundry.support.auth.CurrentCaller;
import io.peftfoundry.jobapi.service.EventRow;
import io.peftfoundry.jobapi.service.JobEventStreams;
import io.peftfoundry.jobapi.service.JobEventService;
import io.peftfoundry.jobapi.service.JobRow;
import io.peftfoundry.jobapi.service.QueuePositions;
import io.peftfoundry.jobapi.service.JobService;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import org.jboss.logging.Logger;

import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/** {@code /v1/fine_tuning/jobs}: shaped after the OpenAI fine-tuning API; errors are problem+json. */
@Path("/v1/fine_tuning/jobs")
@Produces(MediaType.APPLICATION_JSON)
public class JobsResource {

    private static final Logger LOG = Logger.getLogger(JobsResource.class);

    private final CurrentCaller current;
    private final JobService jobs;
    private final JobEventService events;
    private final JobEventStreams streams;
    private final JobViews views;
    private final QueuePositions queuePositions;

    public JobsResource(CurrentCaller current, JobService jobs, QueuePositions queuePositions, JobEventService events,
                        JobEventStreams streams, JobViews views) {
        this.current = current;
        this.jobs = jobs;
        this.events = events;
        this.streams = streams;
        this.views = views;
        this.queuePositions = queuePositions;
    }

    /** Creates a job from a job spec → 201; with a known {@code Idempotency-Key} and the same body → 200, same job. */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response create(String body, @HeaderParam("Idempotency-Key") String idempotencyKey) throws SQLException {
        Caller caller = current.get();
        if (idempotencyKey != null && (idempotencyKey.isBlank() || idempotencyKey.length() > 255)) {
            throw ProblemException.badRequest("Idempotency-Key must be 1–255 characters");
        }
        JobService.Created created = jobs.create(caller, current.bearerKey(), body, idempotencyKey);
        return Response.status(created.created() ? 201 : 200).entity(views.job(created.job())).build();
    }

    /** The tenant's jobs, newest first ({@code limit} 1–100, default 20; {@code after} a job id). */
    @GET
    public Map<String, Object> list(@QueryParam("after") String after, @QueryParam("limit") Integer limit)
            throws SQLException {
        return jobs.list(current.get(), PageRequest.of(limit, after)).body(views::job, JobRow::id);
    }

    @GET
    @Path("{id}")
    public ObjectNode get(@PathParam("id") String id) throws SQLException {
        JobRow job = jobs.get(current.get(), id);
        ObjectNode view = views.job(job);
        queuePositions.of(job).ifPresent(e -> {
            view.put("queue_position", e.position());
            view.put("held_by_quota", e.heldByQuota());
            if (e.estimatedStart() != null) {
                view.put("estimated_start", e.estimatedStart().getEpochSecond());
            }
        });
        return view;
    }

    @POST
    @Path("{id}/cancel")
    public ObjectNode cancel(@PathParam("id") String id) throws SQLException {
        return views.job(jobs.cancel(current.get(), id));
    }

    @POST
    @Path("{id}/pause")
    public ObjectNode pause(@PathParam("id") String id) throws SQLException {
        return views.job(jobs.pause(current.get(), id));
    }

    @POST
    @Path("{id}/resume")
    public ObjectNode resume(@PathParam("id") String id) throws SQLException {
        return views.job(jobs.resume(current.get(), id));
    }

    /**
     * Stored events, oldest first (so a page's {@code last_id} is where the live stream continues), after the event id
     * or seq {@code after}; {@code limit} 1–100, default 20.
     */
    @GET
    @Path("{id}/events")
    public Map<String, Object> events(@PathParam("id") String id, @QueryParam("after") String after,
                                      @QueryParam("limit") Integer limit) throws SQLException {
        jobs.get(current.get(), id);
        PageRequest page = PageRequest.of(limit, after);
        return Page.of(events.events(id, cursor(page.after()), page.fetchSize()), page).body(views::event, EventRow::id);
    }

    /**
     * Live events (SSE): first the stored events after {@code Last-Event-ID} (or {@code after}), then new ones as they
     * are stored (pushed, see {@link JobEventStreams}); the stream ends after a terminal status. Each SSE event:
     * {@code id:} seq, {@code data:} event JSON. A tenant at its limit of open streams gets 429.
     */
    @GET
    @Path("{id}/events")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public void stream(@PathParam("id") String id, @HeaderParam("Last-Event-ID") String lastEventId,
                       @QueryParam("after") String after, @Context SseEventSink sink, @Context Sse sse)
            throws SQLException {
        Caller caller = current.get();
        jobs.get(caller, id);
        long from = cursor(lastEventId != null ? lastEventId : after);
        try {
            // the data is already JSON text: no media type on the event, or each frame carries a content-type line
            streams.open(caller.tenant(), id, from, sink, sse, e -> sse.newEventBuilder().id(Long.toString(e.seq()))
                    .name("message").data(views.json(views.event(e))).build());
        } catch (JobEventStreams.TooManyStreams e) {
            throw new ProblemException(429, Problem.ABOUT_BLANK, "Too many event streams", e.getMessage(), null);
        }
    }

    /**
     * The job's checkpoints (from its checkpoint events), newest first; {@code limit} 1–100, default 20, {@code after}
     * a checkpoint id. A job has few (one per {@code checkpoint_every_steps}): paged in memory.
     */
    @GET
    @Path("{id}/checkpoints")
    public Map<String, Object> checkpoints(@PathParam("id") String id, @QueryParam("after") String after,
                                           @QueryParam("limit") Integer limit) throws SQLException {
        jobs.get(current.get(), id);
        PageRequest page = PageRequest.of(limit, after);
        List<ObjectNode> all = events.checkpoints(id).stream().map(views::checkpoint).toList();
        return Page.slice(all, page, c -> c.path("id").asText(), "checkpoint").body(c -> c, c -> c.path("id").asText());
    }

    private static long cursor(String value) {
        try {
            return JobEventService.seqOf(value);
        } catch (IllegalArgumentException e) {
            FieldError error = new FieldError("after", e.getMessage());
            throw new ProblemException(400, Problem.TYPE_VALIDATION, "Invalid request", error.toString(), List.of(error));
        }
    }
}
