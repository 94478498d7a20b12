package io.peftfoundry.jobapi.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The message of a metrics event, as the events list and the console's log show it. */
class MetricsMessageTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String message(String data) throws Exception {
        return JobEventService.metricsMessage(JSON.readTree(data));
    }

    @Test
    void aTrainingStepShowsStepOfTotalAndTheLossToFiveSignificantDigits() throws Exception {
        assertEquals("step 6/20, loss 4.8795",
                message("{\"step\": 6, \"total_steps\": 20, \"loss\": 4.8794944069602275, \"learning_rate\": 1e-4}"));
    }

    @Test
    void anEvaluationNamesItsValidationMetricsInsteadOfAnUnknownTotal() throws Exception {
        assertEquals("step 20/20, validation loss 4.8019, perplexity 121.74, token accuracy 0.080738",
                message("{\"step\": 20, \"total_steps\": 20, \"eval\": {\"loss\": 4.801899999070745,"
                        + " \"perplexity\": 121.74150666416786, \"target_tokens\": 1734,"
                        + " \"token_accuracy\": 0.08073817762399077}}"));
        assertEquals("step 40, validation loss 0.61, accuracy 0.8125, macro f1 0.4",
                message("{\"step\": 40, \"eval\": {\"loss\": 0.61, \"accuracy\": 0.8125, \"macro_f1\": 0.4}}"));
    }

    @Test
    void aNonFiniteLossIsShownAsSuch() throws Exception {
        assertEquals("step 3/9, loss NaN", JobEventService.metricsMessage(
                JSON.createObjectNode().put("step", 3).put("total_steps", 9).put("loss", Double.NaN)));
    }
}
