package io.peftfoundry.console;

import io.peftfoundry.devstack.testing.DevStackTestResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.startsWith;

@QuarkusTest
@WithTestResource(value = DevStackTestResource.class, scope = TestResourceScope.GLOBAL)
class IndexPageTest {

    @Test
    void rootServesTheStaticPageWithLinksToTheServiceApis() {
        given().get("/").then().statusCode(200)
                .contentType(startsWith("text/html"))
                .body(containsString("<title>PEFT Foundry</title>"))
                .body(containsString("http://127.0.0.1:8081/q/openapi"))
                .body(containsString("http://127.0.0.1:8084/q/openapi"));
    }
}
