package io.peftfoundry.worker.service;

import io.peftfoundry.contracts.event.ControlAction;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Which control requests a worker keeps: a pause only for the run in progress here, a cancel for any job. */
class ControlRequestsTest {

    @Test
    void aPauseCarriedOutElsewhereDoesNotPauseTheResumedRunHere() {
        ControlRequests controls = new ControlRequests();
        // every worker reads every control message; this one was not running the job when its pause went out
        controls.request("ftjob-1", ControlAction.PAUSE);
        // the job was paused on another worker and resumed; this worker claims the resumed run
        controls.started("ftjob-1");
        assertNull(controls.requested("ftjob-1"));
    }

    @Test
    void aPauseOfTheRunInProgressHereIsKeptUntilTheRunEnds() {
        ControlRequests controls = new ControlRequests();
        controls.started("ftjob-1");
        controls.request("ftjob-1", ControlAction.PAUSE);
        assertEquals(ControlAction.PAUSE, controls.requested("ftjob-1"));
        controls.clear("ftjob-1");
        assertNull(controls.requested("ftjob-1"));
        // a late duplicate of the pause after the run ended here is not kept for a later run either
        controls.request("ftjob-1", ControlAction.PAUSE);
        controls.started("ftjob-1");
        assertNull(controls.requested("ftjob-1"));
    }

    @Test
    void aCancelIsKeptForAnyJobAndWinsOverAPause() {
        ControlRequests controls = new ControlRequests();
        controls.request("ftjob-2", ControlAction.CANCEL);
        controls.started("ftjob-2");
        assertEquals(ControlAction.CANCEL, controls.requested("ftjob-2"));
        controls.request("ftjob-2", ControlAction.PAUSE);
        assertEquals(ControlAction.CANCEL, controls.requested("ftjob-2"));
    }
}
