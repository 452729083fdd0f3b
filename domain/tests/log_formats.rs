//! Each common Lambda and container log format: the title is the message
//! alone, the severity is the format's level (or the default rules), and
//! records differing only in time and request id share a fingerprint.

use domain::classify::Classifier;
use domain::fingerprint::fingerprint;
use domain::logtext::title;
use domain::Severity::{self, Critical, High, Low};

const ID: &str = "8f5a0e2c-4b1d-4c6e-9a7f-2d3b5c8e1f04";
const TS: &str = "2026-12-01T07:22:29.661Z";

/// (format, record, title, severity); `{ts}` and `{id}` are filled in.
const FORMATS: &[(&str, &str, &str, Option<Severity>)] = &[
    // Python Lambda runtime.
    ("python error", "[ERROR]\t{ts}\t{id}\tFailed to charge order ord_7f41: card declined", "Failed to charge order ord_7f41: card declined", Some(High)),
    ("python warning", "[WARNING]\t{ts}\t{id}\tRetrying DynamoDB write (attempt 2)", "Retrying DynamoDB write (attempt 2)", Some(Low)),
    ("python critical", "[CRITICAL]\t{ts}\t{id}\tLedger unreachable, giving up", "Ledger unreachable, giving up", Some(Critical)),
    ("python bare", "[ERROR] Could not parse webhook body", "Could not parse webhook body", Some(High)),
    ("python init error", "[ERROR] Runtime.UserCodeSyntaxError: Syntax error in module 'lambda_function': invalid syntax (lambda_function.py, line 12)", "Runtime.UserCodeSyntaxError: Syntax error in module 'lambda_function': invalid syntax (lambda_function.py, line 12)", Some(High)),
    ("python unhandled", "[ERROR] KeyError: 'user_id'\nTraceback (most recent call last):\n  File \"/var/task/lambda_function.py\", line 9, in lambda_handler\n    uid = event['user_id']", "KeyError: 'user_id'", Some(High)),
    ("python unhandled, \\r", "[ERROR] KeyError: 'user_id'\rTraceback (most recent call last):\r  File \"/var/task/lambda_function.py\", line 9, in lambda_handler\r    uid = event['user_id']", "KeyError: 'user_id'", Some(High)),
    ("python info", "[INFO]\t{ts}\t{id}\tRetrying after error", "Retrying after error", None),
    ("python debug", "[DEBUG]\t{ts}\t{id}\tException handler registered", "Exception handler registered", None),
    ("python json", r#"{"timestamp":"{ts}","level":"ERROR","message":{"errorMessage":"'user_id'","errorType":"KeyError","requestId":"{id}","stackTrace":["  File \"/var/task/lambda_function.py\", line 9\n"]}}"#, "KeyError: 'user_id'", Some(High)),
    // Node.js Lambda runtime.
    ("node error", "{ts}\t{id}\tERROR\tFailed to load cart cart_81920: ECONNRESET", "Failed to load cart cart_81920: ECONNRESET", Some(High)),
    ("node warn", "{ts}\t{id}\tWARN\tPayment provider slow: 2874 ms", "Payment provider slow: 2874 ms", Some(Low)),
    ("node invoke error", "{ts}\t{id}\tERROR\tInvoke Error \t{\"errorType\":\"TypeError\",\"errorMessage\":\"Cannot read properties of undefined (reading 'postalCode')\",\"stack\":[\"TypeError: Cannot read properties of undefined (reading 'postalCode')\",\"    at computeShipping (/var/task/shipping.js:41:38)\"]}", "TypeError: Cannot read properties of undefined (reading 'postalCode')", Some(High)),
    ("node info", "{ts}\t{id}\tINFO\tRetry after error succeeded", "Retry after error succeeded", None),
    // Java.
    ("spring boot", "2026-12-01 07:22:29.661 ERROR 1 --- [main] c.e.OrdersHandler : Order ord_7f41 rejected: stock exhausted", "Order ord_7f41 rejected: stock exhausted", Some(High)),
    ("spring boot 3", "{ts} ERROR 1 --- [orders] [           main] c.e.OrdersHandler                        : Order ord_7f41 rejected", "Order ord_7f41 rejected", Some(High)),
    ("logback", "{ts} [main] ERROR com.example.Orders - Reservation failed for order ord_7f41", "Reservation failed for order ord_7f41", Some(High)),
    ("logback warn", "2026-12-01 07:22:29.661 WARN  [http-nio-8080-exec-3] c.e.i.api.ReservationController - Returning 409", "Returning 409", Some(Low)),
    ("logback info", "{ts} [main] INFO  com.example.Orders - Retrying after exception", "Retrying after exception", None),
    ("lambda java", "{ts} {id} ERROR Orders - Payment declined for order ord_7f41", "Payment declined for order ord_7f41", Some(High)),
    ("lambda java log4j2", "2026-12-01 07:22:29 <{id}> FATAL Orders:42 - Cannot reach ledger", "Cannot reach ledger", Some(Critical)),
    // Go.
    ("go log", "2026/12/01 07:22:29 error connecting to ledger-db:5432: connection refused", "error connecting to ledger-db:5432: connection refused", Some(High)),
    ("go log caller", "2026/12/01 07:22:29.661234 worker.go:88: panic recovered: nil map", "panic recovered: nil map", Some(Critical)),
    ("go log info", "2026/12/01 07:22:29 INFO retrying after error", "retrying after error", None),
    ("logrus", r#"time="{ts}" level=error msg="failed to charge card" order=7 error="card declined""#, "failed to charge card", Some(High)),
    ("logrus warning", r#"time="{ts}" level=warning msg="slow provider""#, "slow provider", Some(Low)),
    ("logrus info", r#"time="{ts}" level=info msg="retrying after error""#, "retrying after error", None),
    ("zap console", "{ts}\tERROR\torders/handler.go:42\tfailed to charge card\t{\"order\": 7}", "failed to charge card {\"order\": 7}", Some(High)),
    ("go json", r#"{"level":"error","ts":1764573749.661,"caller":"orders/handler.go:42","msg":"failed to charge card","order":7}"#, "failed to charge card", Some(High)),
    ("go json debug", r#"{"level":"debug","ts":1764573749.661,"msg":"error budget ok"}"#, "error budget ok", None),
    // Rust tracing.
    ("tracing", "{ts} ERROR orders::handler: failed to charge card order=7", "failed to charge card order=7", Some(High)),
    ("tracing span", "{ts} ERROR request{id={id} method=POST}: orders: failed to charge card", "failed to charge card", Some(High)),
    ("tracing spans", "{ts}  WARN request{id=7}:charge{order=7}: orders::psp: provider slow", "provider slow", Some(Low)),
    ("tracing info", "{ts}  INFO orders::handler: retrying after error", "retrying after error", None),
    ("tracing json", r#"{"timestamp":"{ts}","level":"ERROR","fields":{"message":"failed to charge card","order":7},"target":"orders"}"#, "failed to charge card", Some(High)),
    // Lambda platform lines.
    ("timeout", "{ts} {id} Task timed out after 3.00 seconds", "Task timed out after 3.00 seconds", Some(Critical)),
    ("report timeout", "REPORT RequestId: {id}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 61 MB\tStatus: timeout", "Status: timeout", Some(Critical)),
    ("report oom", "REPORT RequestId: {id}\tDuration: 812.01 ms\tBilled Duration: 813 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory", "Status: error Error Type: Runtime.OutOfMemory", Some(Critical)),
    ("report ok", "REPORT RequestId: {id}\tDuration: 12.01 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 61 MB", "", None),
    ("runtime exit", "RequestId: {id} Error: Runtime exited with error: signal: killed", "Runtime exited with error: signal: killed", Some(Critical)),
];

fn fill(record: &str, ts: &str, id: &str) -> String {
    record.replace("{ts}", ts).replace("{id}", id)
}

#[test]
fn each_format_has_the_message_as_title_and_the_right_severity() {
    let classifier = Classifier::defaults();
    let mut wrong = Vec::new();
    for (format, record, want_title, want_severity) in FORMATS {
        let record = fill(record, TS, ID);
        let severity = classifier.classify(&record);
        if severity != *want_severity {
            wrong.push(format!(
                "{format}: severity {severity:?}, want {want_severity:?}"
            ));
        }
        // Titles matter only for events.
        let got = title(&record);
        if want_severity.is_some() && got != *want_title {
            wrong.push(format!("{format}: title {got:?}, want {want_title:?}"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn records_differing_only_in_time_and_request_id_group() {
    let other_id = "0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d";
    let other_ts = "2026-12-02T19:03:58.017Z";
    let mut split = Vec::new();
    for (format, record, _, severity) in FORMATS {
        if severity.is_none() {
            continue;
        }
        let (a, b) = (fill(record, TS, ID), fill(record, other_ts, other_id));
        if fingerprint(&a) != fingerprint(&b) {
            split.push(format!("{format}:\n  {a}\n  {b}"));
        }
    }
    assert!(split.is_empty(), "\n{}", split.join("\n"));
    // A cold start's REPORT (with Init Duration) groups with a warm one.
    let warm = "REPORT RequestId: {id}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 61 MB\tStatus: timeout";
    let cold = warm.replace("61 MB\t", "61 MB\tInit Duration: 402.17 ms\t");
    assert_eq!(
        fingerprint(&fill(warm, TS, ID)),
        fingerprint(&fill(&cold, TS, other_id))
    );
}
