package io.peftfoundry.artifacts.rest;

import io.peftfoundry.devstack.testing.DevStackControl;
import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static io.peftfoundry.artifacts.TestArtifacts.KEY_A;
import static io.peftfoundry.artifacts.TestArtifacts.classification;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

/**
 * An upload while the S3 server is down fails as every error of the platform does — an application/problem+json body
 * that says what failed and to retry — and the same upload succeeds once S3 is back.
 */
@QuarkusTest
@QuarkusTestResource(DevStackTestResource.class)
@QuarkusTestResource(io.peftfoundry.artifacts.JobApiStub.class)
class StorageDownTest {

    @Test
    void anUploadWhileS3IsDownAnswersAProblemToRetryAndSucceedsOnceItIsBack() {
        byte[] content = classification(20).getBytes(StandardCharsets.UTF_8);
        DevStackControl devstack = DevStackControl.local();
        devstack.stop("s3");
        try {
            FilesResourceTest.upload(KEY_A, content, "fine-tune", "classification").then()
                    .statusCode(500)
                    .contentType(containsString("application/problem+json"))
                    .body("status", equalTo(500))
                    .body("detail", containsString("I/O operation failed"))
                    .body("detail", containsString("retry later"));
        } finally {
            devstack.start("s3");
        }
        FilesResourceTest.upload(KEY_A, content, "fine-tune", "classification").then().statusCode(201);
    }
}
