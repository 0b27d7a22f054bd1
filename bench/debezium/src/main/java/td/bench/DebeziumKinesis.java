/*
 * DebeziumKinesis.java — the Debezium counterpart of forwarder/td-forwarder, for
 * bench/bench_debezium.sh: Debezium's embedded engine (PostgreSQL connector, plugin pgoutput)
 * streams the changes of one table, and every change event, as Debezium's JSON (the event's
 * value), goes to a Kinesis stream through the AWS SDK v2's KinesisClient.putRecords: calls of at
 * most 500 records and 5 MiB, the entries Kinesis failed are resent (backoff with jitter, forever,
 * as td-forwarder does), partition key = the row's ride_id (from the event's key, the primary key).
 *
 * The format is KeyValueChangeEventFormat.of(Json.class, Json.class), i.e.
 * DebeziumEngine.create(Json.class): in 3.6.1 the value-only ChangeEventFormat.of(Json.class)
 * fails in the async engine's build() (ConverterBuilder.toFormat makes a key converter from the
 * null key format: NullPointerException), and the key is where the ride id is anyway.
 *
 * At least once: a batch's records are marked processed (committer.markProcessed, then
 * markBatchFinished) only after Kinesis accepted every one of them, so Debezium's offset store
 * (a file, flushed every DBZ_FLUSH_MS) and the slot's confirmed LSN never pass an unsent event;
 * a crash or kill -9 resends from the last flushed offset (duplicates).  Gaps come from the
 * connector itself: 3.6.1 stores a position as a WAL record's LSN, and COPY puts many rows under
 * one LSN; on restart it skips the whole record, including rows that were never handed over
 * (debezium/dbz#1554, fixed in 3.7.1).  The kill -9 phase of bench_debezium.sh counts them.
 *
 * Environment (defaults in brackets):
 *   DBZ_PG_HOST [127.0.0.1], DBZ_PG_PORT [5432], DBZ_PG_USER [postgres], DBZ_PG_PASSWORD [""],
 *   DBZ_PG_DB [postgres], DBZ_SLOT [debezium_trips], DBZ_PUBLICATION [debezium_trips],
 *   DBZ_TABLES [public.trips] (table.include.list), DBZ_STREAM (required),
 *   DBZ_OFFSET_FILE [./offsets.dat], DBZ_FLUSH_MS [1000] (offset.flush.interval.ms),
 *   DBZ_POLL_MS [100] (poll.interval.ms), DBZ_SCHEMAS [false] (JSON with the schema),
 *   DBZ_STATUS_FILE [none]: after each batch, the number of events Kinesis accepted so far,
 *   AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (the SDK's default providers),
 *   AWS_ENDPOINT_URL_KINESIS, else AWS_ENDPOINT_URL: the endpoint (moto; CBOR is then off).
 * SIGTERM: the engine stops (offsets of what was sent are flushed), exit 0.
 */
package td.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.format.Json;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.KinesisClientBuilder;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequest;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;

public final class DebeziumKinesis {
    static final int MAX_RECORDS = 500;
    static final int MAX_BYTES = 5 * 1024 * 1024;
    static final ObjectMapper JSON = new ObjectMapper();

    static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? dflt : v;
    }

    static void log(String msg) {
        System.err.println(java.time.Instant.now() + " td-debezium: " + msg);
    }

    public static void main(String[] args) throws Exception {
        String stream = env("DBZ_STREAM", null);
        if (stream == null) {
            log("DBZ_STREAM is required");
            System.exit(2);
        }
        Properties p = new Properties();
        p.setProperty("name", "td-debezium");
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("topic.prefix", "td");
        p.setProperty("database.hostname", env("DBZ_PG_HOST", "127.0.0.1"));
        p.setProperty("database.port", env("DBZ_PG_PORT", "5432"));
        p.setProperty("database.user", env("DBZ_PG_USER", "postgres"));
        p.setProperty("database.password", env("DBZ_PG_PASSWORD", ""));
        p.setProperty("database.dbname", env("DBZ_PG_DB", "postgres"));
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", env("DBZ_SLOT", "debezium_trips"));
        p.setProperty("publication.name", env("DBZ_PUBLICATION", "debezium_trips"));
        p.setProperty("publication.autocreate.mode", "filtered");
        p.setProperty("table.include.list", env("DBZ_TABLES", "public.trips"));
        p.setProperty("snapshot.mode", "no_data"); // stream from the slot's creation on
        p.setProperty("poll.interval.ms", env("DBZ_POLL_MS", "100"));
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
        p.setProperty("offset.storage.file.filename", env("DBZ_OFFSET_FILE", "offsets.dat"));
        p.setProperty("offset.flush.interval.ms", env("DBZ_FLUSH_MS", "1000"));
        p.setProperty("converter.schemas.enable", env("DBZ_SCHEMAS", "false"));

        KinesisSink sink = new KinesisSink(stream, env("DBZ_STATUS_FILE", null));
        CountDownLatch done = new CountDownLatch(1);
        DebeziumEngine<ChangeEvent<String, String>> engine =
                DebeziumEngine.create(Json.class)
                        .using(p)
                        .notifying(sink)
                        .using((ok, message, error) -> {
                            log("engine stopped: " + message + (error != null ? " " + error : ""));
                            done.countDown();
                        })
                        .build();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                engine.close();
                done.await();
            } catch (Exception e) {
                log("close: " + e);
            }
        }));
        ExecutorService executor = Executors.newSingleThreadExecutor();
        executor.execute(engine);
        log("started: stream \"" + stream + "\"");
        done.await();
        executor.shutdown();
    }

    /** Sends each batch of change events to Kinesis, then marks it processed. */
    static final class KinesisSink
            implements DebeziumEngine.ChangeConsumer<ChangeEvent<String, String>> {
        final KinesisClient kinesis;
        final String stream;
        final Path statusFile;
        long accepted;

        KinesisSink(String stream, String statusFile) {
            KinesisClientBuilder b = KinesisClient.builder();
            String endpoint = env("AWS_ENDPOINT_URL_KINESIS", env("AWS_ENDPOINT_URL", null));
            if (endpoint != null) {
                // the SDK speaks CBOR to Kinesis by default, which moto does not read
                System.setProperty("aws.cborEnabled", "false");
                b.endpointOverride(URI.create(endpoint));
            }
            String region = env("AWS_REGION", null);
            if (region != null) {
                b.region(Region.of(region));
            }
            this.kinesis = b.build();
            this.stream = stream;
            this.statusFile = statusFile == null ? null : Path.of(statusFile);
        }

        @Override
        public boolean supportsTombstoneEvents() {
            return false;
        }

        @Override
        public void handleBatch(List<ChangeEvent<String, String>> records,
                DebeziumEngine.RecordCommitter<ChangeEvent<String, String>> committer)
                throws InterruptedException {
            List<PutRecordsRequestEntry> chunk = new ArrayList<>();
            int bytes = 0;
            for (ChangeEvent<String, String> r : records) {
                if (r.value() == null) {
                    continue;
                }
                byte[] data = r.value().getBytes(StandardCharsets.UTF_8);
                String key = partitionKey(r.key());
                int size = data.length + key.getBytes(StandardCharsets.UTF_8).length;
                if (chunk.size() == MAX_RECORDS || bytes + size > MAX_BYTES) {
                    send(chunk);
                    chunk = new ArrayList<>();
                    bytes = 0;
                }
                chunk.add(PutRecordsRequestEntry.builder()
                        .partitionKey(key).data(SdkBytes.fromByteArray(data)).build());
                bytes += size;
            }
            if (!chunk.isEmpty()) {
                send(chunk);
            }
            // Everything is in Kinesis: only now may the offsets (and the slot) move past it.
            for (ChangeEvent<String, String> r : records) {
                committer.markProcessed(r);
            }
            committer.markBatchFinished();
            writeStatus();
        }

        /** The ride id in the event's key ({"ride_id": 256}, or {"schema":..,"payload":..}). */
        static String partitionKey(String key) {
            try {
                JsonNode doc = JSON.readTree(key);
                JsonNode id = (doc.has("payload") ? doc.get("payload") : doc).path("ride_id");
                if (!id.isMissingNode() && !id.isNull()) {
                    return id.isTextual() ? id.asText() : id.toString();
                }
            } catch (Exception e) {
                log("unreadable event: " + e.getMessage());
            }
            return "none";
        }

        /** PutRecords until every entry was accepted: failed entries are resent, with backoff. */
        void send(List<PutRecordsRequestEntry> entries) throws InterruptedException {
            List<PutRecordsRequestEntry> pending = entries;
            long delay = 100;
            while (true) {
                try {
                    PutRecordsResponse resp = kinesis.putRecords(PutRecordsRequest.builder()
                            .streamName(stream).records(pending).build());
                    if (resp.failedRecordCount() == null || resp.failedRecordCount() == 0) {
                        accepted += pending.size();
                        return;
                    }
                    List<PutRecordsRequestEntry> again = new ArrayList<>();
                    List<PutRecordsResultEntry> results = resp.records();
                    for (int i = 0; i < results.size(); i++) {
                        if (results.get(i).errorCode() != null) {
                            again.add(pending.get(i));
                        }
                    }
                    accepted += pending.size() - again.size();
                    log(again.size() + " of " + pending.size() + " records failed ("
                            + results.stream().filter(e -> e.errorCode() != null).findFirst()
                                    .map(PutRecordsResultEntry::errorCode).orElse("?")
                            + "), resending");
                    pending = again;
                } catch (SdkException e) {
                    log("PutRecords failed: " + e.getMessage() + "; retrying");
                }
                Thread.sleep(delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1));
                delay = Math.min(delay * 2, 5000);
            }
        }

        void writeStatus() {
            if (statusFile == null) {
                return;
            }
            try {
                Path tmp = statusFile.resolveSibling(statusFile.getFileName() + ".tmp");
                Files.writeString(tmp, accepted + "\n");
                Files.move(tmp, statusFile, StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            } catch (Exception e) {
                log("status file: " + e);
            }
        }
    }
}
