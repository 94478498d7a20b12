package io.peftfoundry.eval.service;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** Submits a full-fine-tune baseline job; the real one is job-api's {@code POST /v1/fine_tuning/jobs}. */
public interface BaselineSubmitter {

    /**
     * @param spec           the baseline's job spec
     * @param idempotencyKey the same for every retry of one baseline, so a retried POST creates no second job
     * @param tenant         the tenant the baseline is for (see the README for how job-api honours it)
     * @return the created job's id
     */
    String submit(ObjectNode spec, String idempotencyKey, String tenant) throws Exception;
}
