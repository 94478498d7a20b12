package io.peftfoundry.console;

import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The front end that Maven built with npm is in the jar and served at /, its script and styles beside it. */
@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
@WithTestResource(value = UpstreamStub.class, scope = TestResourceScope.GLOBAL)
class IndexPageTest {

    @Test
    void rootServesTheBuiltSinglePageApp() {
        String html = given().get("/").then().statusCode(200)
                .contentType(startsWith("text/html"))
                .body(containsString("<title>PEFT Foundry</title>"))
                .extract().asString();
        Matcher script = Pattern.compile("src=\"(/assets/index-[^\"]+\\.js)\"").matcher(html);
        assertTrue(script.find(), "the page loads the bundled script: " + html);
        // the bundle holds the app and Chart.js: no CDN needed at run time
        given().get(script.group(1)).then().statusCode(200)
                .body(containsString("/api/schema/job-spec"))
                .body(containsString("/api/jobs/v1/fine_tuning/jobs"));
        assertTrue(!html.contains("http://") && !html.contains("https://"), "no external resources: " + html);
    }
}
