package io.peftfoundry.artifacts.rest;

import io.peftfoundry.artifacts.JobApiStub;
import io.peftfoundry.artifacts.TestArtifacts;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.peftfoundry.artifacts.TestArtifacts.KEY_A;
import static io.peftfoundry.artifacts.TestArtifacts.KEY_B;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

@QuarkusTest
@QuarkusTestResource(DevStackTestResource.class)
@QuarkusTestResource(JobApiStub.class)
class CheckpointsResourceTest {

    static String upload(String jobId, int attempt, long step) throws Exception {
        JobApiStub.JOBS.put(jobId, "tenant-a");
        Path zip = TestArtifacts.zip(Map.of("state.bin", TestArtifacts.utf8(jobId + "/" + attempt + "/" + step)));
        return given().header("Authorization", "Bearer " + KEY_A)
                .multiPart("file", zip.toFile(), "application/zip")
                .multiPart("job_id", jobId).multiPart("attempt", String.valueOf(attempt)).multiPart("step", String.valueOf(step))
                .when().post("/v1/checkpoints").then().statusCode(201)
                .body("job_id", equalTo(jobId)).body("attempt", equalTo(attempt))
                .extract().path("id");
    }

    @Test
    void latestIsTheHighestAttemptThenStepAndOnlyKeepLastSurvive() throws Exception {
        String job = "ftjob-" + UUID.randomUUID();
        // attempt 1 reaches step 300; attempt 2 resumes from 200 and writes 200 and 400
        List<String> ids = new ArrayList<>();
        ids.add(upload(job, 1, 100));
        ids.add(upload(job, 1, 200));
        ids.add(upload(job, 1, 300));
        ids.add(upload(job, 2, 200));
        ids.add(upload(job, 2, 400));

        given().header("Authorization", "Bearer " + KEY_A).get("/v1/checkpoints/latest?job_id=" + job).then()
                .statusCode(200).body("id", equalTo(ids.get(4))).body("attempt", equalTo(2)).body("step", equalTo(400));
        // keep-last = 3 (default): newest by (attempt, step) are (2,400), (2,200), (1,300)
        given().header("Authorization", "Bearer " + KEY_A).get("/v1/checkpoints?job_id=" + job).then()
                .statusCode(200)
                .body("data.id", contains(ids.get(4), ids.get(3), ids.get(2)));
        given().header("Authorization", "Bearer " + KEY_A).get("/v1/checkpoints/" + ids.get(0)).then().statusCode(404);
        given().header("Authorization", "Bearer " + KEY_A).get("/v1/checkpoints/" + ids.get(2) + "/content").then()
                .statusCode(200);
        given().header("Authorization", "Bearer " + KEY_B).get("/v1/checkpoints/latest?job_id=" + job).then().statusCode(404);
    }

    @Test
    void jobWithoutCheckpointsHasNoLatest() {
        given().header("Authorization", "Bearer " + KEY_A).get("/v1/checkpoints/latest?job_id=nothing-here").then()
                .statusCode(404);
    }

    @Test
    void missingFieldsAreNamed() throws Exception {
        Path zip = TestArtifacts.zip(Map.of("a", TestArtifacts.utf8("a")));
        given().header("Authorization", "Bearer " + KEY_A).multiPart("file", zip.toFile(), "application/zip")
                .multiPart("attempt", "x")
                .when().post("/v1/checkpoints").then().statusCode(400)
                .body("errors.field", contains("job_id", "attempt", "step"));
    }

    /**
     * Issue 14 finding 2: tenant B cannot plant a checkpoint under tenant A's job (the worker would resume A's job from
     * it); the platform key may write it only for the job's own tenant, and what it finds is A's checkpoint.
     */
    @Test
    void onlyTheJobsTenantOrAPlatformKeyActingForItWritesItsCheckpoints() throws Exception {
        String job = "ftjob-" + UUID.randomUUID();
        String mine = upload(job, 1, 10);
        Path planted = TestArtifacts.zip(Map.of("state.bin", TestArtifacts.utf8("evil")));
        given().header("Authorization", "Bearer " + KEY_B)
                .multiPart("file", planted.toFile(), "application/zip")
                .multiPart("job_id", job).multiPart("attempt", "99").multiPart("step", "1")
                .when().post("/v1/checkpoints").then().statusCode(403)
                .contentType("application/problem+json")
                .body("detail", containsString(job));
        given().header("Authorization", "Bearer " + TestArtifacts.KEY_ADMIN)
                .multiPart("file", planted.toFile(), "application/zip")
                .multiPart("job_id", job).multiPart("attempt", "98").multiPart("step", "1")
                .multiPart("tenant", "tenant-b")
                .when().post("/v1/checkpoints").then().statusCode(403);
        given().header("Authorization", "Bearer " + TestArtifacts.KEY_ADMIN)
                .get("/v1/checkpoints/latest?job_id=" + job + "&tenant=tenant-a").then().statusCode(200)
                .body("id", equalTo(mine)).body("attempt", equalTo(1));
        Path next = TestArtifacts.zip(Map.of("state.bin", TestArtifacts.utf8("attempt 2")));
        given().header("Authorization", "Bearer " + TestArtifacts.KEY_ADMIN)
                .multiPart("file", next.toFile(), "application/zip")
                .multiPart("job_id", job).multiPart("attempt", "2").multiPart("step", "20")
                .multiPart("tenant", "tenant-a")
                .when().post("/v1/checkpoints").then().statusCode(201).body("attempt", equalTo(2));
    }
}
