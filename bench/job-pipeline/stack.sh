# Sourced by post-throughput and sse-fan-out: starts devstack, artifact-store and job-api on private ports with fresh
# data under $WORK, creates tenant "bench" with a key ($KEY), a tiny registered model "bench-tiny" and a 2-line
# training file ($FILE); stops everything on exit. Needs ROOT, WORK and JOB_API_APP set; defines say, wait_for,
# start_job_api/stop_job_api (job-api restarted with other settings), psql_super/psql_jobs, DEVSTACK_PID, JOB_API_PID.
export FOUNDRY_HOST=127.0.0.1
# private ports 28xxx unless BENCH_PORTS=env (then the FOUNDRY_*_PORT variables already set are used)
if [[ "${BENCH_PORTS:-}" != env ]]; then
  export FOUNDRY_KAFKA_PORT=28092 FOUNDRY_KAFKA_CONTROLLER_PORT=28093 FOUNDRY_DEVSTACK_PORT=28094
  export FOUNDRY_PG_PORT=28433 FOUNDRY_S3_PORT=28900 FOUNDRY_ARTIFACT_STORE_PORT=28082 FOUNDRY_JOB_API_PORT=28081
fi
export FOUNDRY_ADMIN_KEY="bench-admin-$RANDOM$RANDOM"
export FOUNDRY_IMPORT_BUILTIN_MODELS=false
export FOUNDRY_JOB_API_URL="http://127.0.0.1:$FOUNDRY_JOB_API_PORT"
export FOUNDRY_ARTIFACT_STORE_URL="http://127.0.0.1:$FOUNDRY_ARTIFACT_STORE_PORT"
JA="$FOUNDRY_JOB_API_URL"
AS="$FOUNDRY_ARTIFACT_STORE_URL"

say() { printf '[bench] %s\n' "$*" >&2; }

PIDS=()
cleanup() {
  declare -F stop_job_api > /dev/null && stop_job_api
  for (( i=${#PIDS[@]}-1; i>=0; i-- )); do
    pid="${PIDS[$i]}"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
  done
  if [[ -z "${BENCH_KEEP:-}" ]]; then rm -rf "$WORK/devstack" "$WORK/data"; fi
}
trap cleanup EXIT

wait_for() { # url timeout_s
  for _ in $(seq 1 "$2"); do
    if curl -fs -o /dev/null "$1"; then return 0; fi
    sleep 1
  done
  say "timed out waiting for $1"; return 1
}

if [[ ! -f "$ROOT/devstack/target/devstack.jar" || ! -f "$ROOT/artifact-store/target/quarkus-app/quarkus-run.jar" \
      || ! -f "$ROOT/job-api/target/quarkus-app/quarkus-run.jar" ]]; then
  say "building devstack, artifact-store and job-api"
  (cd "$ROOT" && ${MVN:-./mvnw -B} -q -pl devstack,artifact-store,job-api -am install -DskipTests)
fi

rm -rf "$WORK"; mkdir -p "$WORK/data"
export FOUNDRY_DATA_DIR="$WORK/data"

say "starting devstack (log $WORK/devstack.log)"
java -Xmx512m -cp "$ROOT/devstack/target/devstack.jar:$ROOT/devstack/target/lib/*" io.peftfoundry.devstack.Main \
  --data-dir "$WORK/devstack" --fresh > "$WORK/devstack.log" 2>&1 &
PIDS+=($!)
DEVSTACK_PID=$!
wait_for "http://127.0.0.1:$FOUNDRY_DEVSTACK_PORT/health" 240

JOB_API_PID=
start_job_api() { # log file
  java -Xmx384m -jar "$JOB_API_APP/quarkus-run.jar" > "$1" 2>&1 &
  JOB_API_PID=$!
}
stop_job_api() {
  if [[ -n "$JOB_API_PID" ]] && kill -0 "$JOB_API_PID" 2>/dev/null; then
    kill "$JOB_API_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$JOB_API_PID" 2>/dev/null || break; sleep 1; done
  fi
  JOB_API_PID=
}
# psql against devstack's PostgreSQL: as the superuser (trust on loopback) or as job-api's login
psql_super() { psql -w -h 127.0.0.1 -p "$FOUNDRY_PG_PORT" -U postgres -d foundry -v ON_ERROR_STOP=1 -qtAc "$1"; }
psql_jobs() { PGPASSWORD="${FOUNDRY_PG_PASSWORD:-foundry}" psql -w -h 127.0.0.1 -p "$FOUNDRY_PG_PORT" -U jobs -d foundry -qtAc "$1"; }

say "starting job-api and artifact-store"
start_job_api "$WORK/job-api.log"
java -Xmx384m -jar "$ROOT/artifact-store/target/quarkus-app/quarkus-run.jar" > "$WORK/artifact-store.log" 2>&1 &
PIDS+=($!)
wait_for "$JA/q/health/ready" 180
wait_for "$AS/q/health/ready" 180

say "tenant, key, tiny model and dataset"
curl -fs -H "Authorization: Bearer $FOUNDRY_ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"name":"bench"}' "$JA/v1/admin/tenants" > /dev/null
KEY=$(curl -fs -H "Authorization: Bearer $FOUNDRY_ADMIN_KEY" -H 'Content-Type: application/json' -d '{"name":"bench"}' \
  "$JA/v1/admin/tenants/bench/keys" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
python3 - "$WORK/model.zip" <<'PY'
import json, struct, sys, zipfile
header = json.dumps({"embeddings.word_embeddings.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}).encode()
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("config.json", json.dumps({"model_type": "bert", "hidden_size": 2, "num_hidden_layers": 1, "vocab_size": 2}))
    z.writestr("model.safetensors", struct.pack("<Q", len(header)) + header + bytes(16))
    z.writestr("tokenizer.json", json.dumps({"version": "1.0", "model": {"type": "WordPiece"}}))
PY
curl -fs -H "Authorization: Bearer $KEY" -F file=@"$WORK/model.zip" -F name=bench-tiny "$AS/v1/models" > /dev/null
printf '{"text":"good","label":"pos"}\n{"text":"bad","label":"neg"}\n' > "$WORK/train.jsonl"
FILE=$(curl -fs -H "Authorization: Bearer $KEY" -F purpose=fine-tune -F task=classification -F file=@"$WORK/train.jsonl" \
  "$AS/v1/files" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
