"""The platform through the official OpenAI Python client only, against the gateway (the console's /v1).

Environment: CONSOLE_URL (default http://127.0.0.1:8080), FOUNDRY_API_KEY (an admin key: the suite makes its own
tenant and key with it, so the lists it checks hold exactly what it made), E2E_MODEL, E2E_DATASET, E2E_VALIDATION,
SDK_MAX_STEPS, SDK_JOB_TIMEOUT_S. Run by ./run (which makes the venv) from web-console/e2e/run and ./foundry test.
"""
import json
import os
import time
import unittest
import urllib.request
import uuid
from pathlib import Path

import openai

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
CONSOLE_URL = os.environ.get("CONSOLE_URL", "http://127.0.0.1:8080").rstrip("/")
BASE_URL = CONSOLE_URL + "/v1"
MODEL = os.environ.get("E2E_MODEL", "all-minilm-l6-v2")
DATASET = Path(os.environ.get("E2E_DATASET", ROOT / "data/fortunes/smoke/train.jsonl"))
VALIDATION = Path(os.environ.get("E2E_VALIDATION", ROOT / "data/fortunes/smoke/validation.jsonl"))
MAX_STEPS = int(os.environ.get("SDK_MAX_STEPS", "4"))
JOB_TIMEOUT_S = float(os.environ.get("SDK_JOB_TIMEOUT_S", "900"))
TERMINAL = {"succeeded", "failed", "cancelled"}


def admin_key():
    if os.environ.get("FOUNDRY_API_KEY"):
        return os.environ["FOUNDRY_API_KEY"].strip()
    return (ROOT / ".foundry/admin-key").read_text().strip()


def admin_post(path, body):
    """Tenant administration is no OpenAI API: plain HTTP through the same gateway."""
    req = urllib.request.Request(BASE_URL + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {admin_key()}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


class OpenAiPythonSdkAgainstTheGateway(unittest.TestCase):
    """Steps share state and run in the order of their names."""

    client: openai.OpenAI
    files: list
    job_id: str

    @classmethod
    def setUpClass(cls):
        tenant = "sdk-py-" + uuid.uuid4().hex[:8]
        admin_post("/admin/tenants", {"id": tenant, "name": tenant})
        key = admin_post(f"/admin/tenants/{tenant}/keys", {"name": "openai-python-sdk"})["key"]
        cls.client = openai.OpenAI(api_key=key, base_url=BASE_URL, max_retries=0, timeout=120)
        cls.files = []

    def test_01_upload_files(self):
        for i in range(5):
            # the same lines in another order: each upload is its own file of the tenant
            lines = DATASET.read_text().splitlines()
            lines = lines[i:] + lines[:i]
            f = self.client.files.create(file=(f"train-{i}.jsonl", "\n".join(lines).encode()), purpose="fine-tune")
            self.assertTrue(f.id.startswith("file-"), f.id)
            self.assertEqual("file", f.object)
            self.assertEqual(f"train-{i}.jsonl", f.filename)
            self.assertEqual(len(lines), f.model_extra.get("line_count"))
            type(self).files.append(f.id)
        self.assertEqual(self.files[0], self.client.files.retrieve(self.files[0]).id)

    def test_02_list_every_file_across_pages(self):
        first = self.client.files.list(limit=2)
        self.assertTrue(first.has_more, "5 files, 2 a page: more follow the first page")
        self.assertEqual(2, len(first.data))
        pages = 0
        page = first
        while page is not None:
            pages += 1
            page = page.get_next_page() if page.has_next_page() else None
        self.assertEqual(3, pages, "5 files in pages of 2: 2 + 2 + 1")
        # auto-pagination (what files.list() does for a user): every file once, newest first, and it ends
        listed = [f.id for f in self.client.files.list(limit=2)]
        self.assertEqual(list(reversed(self.files)), listed)

    def test_03_plain_openai_job_then_cancel(self):
        job = self.client.fine_tuning.jobs.create(model=MODEL, training_file=self.files[0], suffix="plain", seed=7)
        self.assertEqual("fine_tuning.job", job.object)
        self.assertEqual(MODEL, job.model)
        self.assertIn(job.status, {"validating_files", "queued", "running"})
        self.assertEqual(7, job.seed)
        self.assertIsNone(job.fine_tuned_model)
        cancelled = self.client.fine_tuning.jobs.cancel(job.id)
        self.assertEqual(job.id, cancelled.id)
        self.assertIn(cancelled.status, {"cancelled", "cancelling"})
        deadline = time.monotonic() + 120
        while self.client.fine_tuning.jobs.retrieve(job.id).status != "cancelled":
            self.assertLess(time.monotonic(), deadline, "the cancelled job never read cancelled")
            time.sleep(1)

    def test_04_our_job_shape_through_extra_body(self):
        job = self.client.fine_tuning.jobs.create(
            model=MODEL, training_file=self.files[1], suffix="lora-sdk", seed=42,
            extra_body={
                "task": "classification",
                "method": {"type": "lora", "lora": {"r": 4, "alpha": 8, "target_modules": ["query", "value"]}},
                "hyperparameters": {"max_steps": MAX_STEPS, "batch_size": 8, "learning_rate": 1e-3,
                                    "checkpoint_every_steps": 2, "eval_every_steps": MAX_STEPS},
                "metadata": {"suite": "openai-python"},
            })
        self.assertEqual("lora", job.method.type)
        self.assertEqual(MAX_STEPS, job.hyperparameters.model_extra["max_steps"])
        type(self).job_id = job.id
        listed = [j.id for j in self.client.fine_tuning.jobs.list(limit=1)]
        self.assertEqual(2, len(listed), "the plain job and this one, one a page")
        self.assertEqual(job.id, listed[0], "newest first")

    def test_05_follow_events_to_the_end(self):
        deadline = time.monotonic() + JOB_TIMEOUT_S
        seen = []
        after = None
        status = None
        while status not in TERMINAL:
            self.assertLess(time.monotonic(), deadline, f"job {self.job_id} did not end; last events {seen[-3:]}")
            page = self.client.fine_tuning.jobs.list_events(self.job_id, limit=5, **({"after": after} if after else {}))
            for e in page.data:
                seen.append(e)
                if e.type == "status":
                    status = e.model_extra.get("status")
            if page.data:
                after = page.data[-1].id
            if not page.has_more and status not in TERMINAL:
                time.sleep(1)
        self.assertEqual("succeeded", status, [e.message for e in seen[-5:]])
        seqs = [e.model_extra["seq"] for e in seen]
        self.assertEqual(sorted(set(seqs)), seqs, "every event once, in order")
        self.assertTrue(any(e.type == "metrics" for e in seen), "training reported metrics")
        # the same events again through auto-pagination, 3 a page
        self.assertEqual([e.id for e in seen], [e.id for e in self.client.fine_tuning.jobs.list_events(self.job_id, limit=3)])

    def test_06_checkpoints_and_fine_tuned_model(self):
        checkpoints = list(self.client.fine_tuning.jobs.checkpoints.list(self.job_id, limit=1))
        # checkpoint_every_steps 2 of MAX_STEPS steps
        self.assertGreaterEqual(len(checkpoints), MAX_STEPS // 2 - 1, checkpoints)
        self.assertTrue(all(c.fine_tuning_job_id == self.job_id for c in checkpoints))
        steps = [c.model_extra["step"] for c in checkpoints]
        self.assertEqual(sorted(steps, reverse=True), steps, "newest first")
        job = self.client.fine_tuning.jobs.retrieve(self.job_id)
        self.assertEqual("succeeded", job.status)
        self.assertIsNotNone(job.fine_tuned_model)
        self.assertEqual(job.model_extra["adapter"], job.fine_tuned_model)
        self.assertGreater(job.trained_tokens, 0)
        self.assertIsNotNone(job.finished_at)
        self.assertEqual([], job.result_files)

    def test_07_error_shapes(self):
        with self.assertRaises(openai.AuthenticationError) as e:
            openai.OpenAI(api_key="sk-not-a-key", base_url=BASE_URL, max_retries=0).files.list()
        self.assertEqual(401, e.exception.status_code)
        with self.assertRaises(openai.NotFoundError) as e:
            self.client.fine_tuning.jobs.retrieve("ftjob-does-not-exist")
        self.assertEqual(404, e.exception.status_code)
        self.assertIn("ftjob-does-not-exist", e.exception.message)
        with self.assertRaises(openai.NotFoundError):
            self.client.files.retrieve("file-does-not-exist")
        with self.assertRaises(openai.BadRequestError) as e:
            self.client.fine_tuning.jobs.create(model=MODEL, training_file=self.files[0],
                                                hyperparameters={"n_epochs": 0})
        self.assertEqual("hyperparameters.n_epochs", e.exception.param)
        with self.assertRaises(openai.BadRequestError) as e:
            self.client.files.list(limit=1000)
        self.assertEqual("limit", e.exception.param)


if __name__ == "__main__":
    unittest.main(verbosity=2)
