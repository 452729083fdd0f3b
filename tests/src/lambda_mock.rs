//! Running the packaged Lambda bootstraps on this machine, as Lambda would:
//! where `ops/build` puts the packages and how to unpack them, a small
//! HTTP/1.1 server, a mock of the Lambda Runtime API with invocations queued,
//! a fake AWS endpoint, the environment Lambda gives a `provided.al2023`
//! function, and each function's variables and events.
//!
//! Shared by the packaging test (tests/tests/packaging.rs) and the
//! `lambda-bench` binary (cold start, instructions and peak RSS).

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The Lambda functions; the `monitoring` CLI is never packaged.
pub const BINARIES: [&str; 7] = [
    "handle-monitoring-events",
    "update-deployment",
    "daily-report",
    "query-error-logs",
    "stream-error-logs",
    "api",
    "notify",
];

// ---------------------------------------------------------------------------
// Where the packages are.

/// `target/lambda` of this workspace (or of `CARGO_TARGET_DIR`), where
/// `ops/build` writes `<binary>/bootstrap.zip`.
pub fn lambda_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) if Path::new(&t).is_absolute() => PathBuf::from(t),
        Some(t) => root.join(t),
        None => root.join("target"),
    };
    target.join("lambda")
}

/// `<lambda_dir>/<binary>/bootstrap.zip`.
pub fn package_in(lambda_dir: &Path, binary: &str) -> PathBuf {
    lambda_dir.join(binary).join("bootstrap.zip")
}

// ---------------------------------------------------------------------------
// Little-endian fields, for the zip and ELF readers.

pub fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}

pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

pub fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

// ---------------------------------------------------------------------------
// Zip: the central directory, read by hand (names, sizes, Unix modes).

#[derive(Debug)]
pub struct ZipEntry {
    pub name: String,
    /// The "version made by" host system: 3 is Unix (mode in the external attributes).
    pub host_system: u8,
    /// `st_mode`: file type and permissions.
    pub mode: u32,
    pub size: u64,
}

pub fn zip_entries(zip: &Path) -> Vec<ZipEntry> {
    let data = std::fs::read(zip).unwrap_or_else(|e| panic!("{}: {e}", zip.display()));
    let what = zip.display();
    // End of central directory: 22 bytes plus a comment of at most 64 KiB.
    let eocd = (0..=data.len().saturating_sub(22))
        .rev()
        .take(22 + 65_535)
        .find(|&i| u32_at(&data, i) == 0x0605_4b50)
        .unwrap_or_else(|| panic!("{what}: not a zip file (no end of central directory)"));
    let count = u16_at(&data, eocd + 10) as usize;
    let cd_offset = u32_at(&data, eocd + 16);
    assert_ne!(
        cd_offset,
        u32::MAX,
        "{what}: zip64 archives are not expected"
    );
    let mut at = cd_offset as usize;
    let mut entries = Vec::new();
    for _ in 0..count {
        assert_eq!(
            u32_at(&data, at),
            0x0201_4b50,
            "{what}: bad central directory header at {at}"
        );
        let name_len = u16_at(&data, at + 28) as usize;
        let extra_len = u16_at(&data, at + 30) as usize;
        let comment_len = u16_at(&data, at + 32) as usize;
        let name = &data[at + 46..at + 46 + name_len];
        entries.push(ZipEntry {
            name: String::from_utf8_lossy(name).into_owned(),
            host_system: (u16_at(&data, at + 4) >> 8) as u8,
            mode: u32_at(&data, at + 38) >> 16,
            size: u32_at(&data, at + 24) as u64,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    entries
}

/// Inflates one entry with Python's zipfile (which checks its CRC).
pub fn unzip_entry(zip: &Path, name: &str, dest: &Path) {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\n\
             with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], 'wb') as f:\n    \
             f.write(z.read(sys.argv[2]))",
        ])
        .arg(zip)
        .arg(name)
        .arg(dest)
        .output()
        .expect("python3 is needed to inflate the zip");
    assert!(
        out.status.success(),
        "cannot extract {name} from {}: {}",
        zip.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Unpacks the package's `bootstrap` with the mode the zip gives it, as
/// Lambda does, into `dir`.
pub fn unpack(zip: &Path, dir: &Path) -> PathBuf {
    let entries = zip_entries(zip);
    let entry = entries
        .iter()
        .find(|e| e.name == "bootstrap")
        .unwrap_or_else(|| panic!("{}: no bootstrap entry", zip.display()));
    let bootstrap = dir.join("bootstrap");
    unzip_entry(zip, "bootstrap", &bootstrap);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        &bootstrap,
        std::fs::Permissions::from_mode(entry.mode & 0o7777),
    )
    .unwrap();
    bootstrap
}

// ---------------------------------------------------------------------------
// A small HTTP/1.1 server: a thread per connection, keep-alive, bodies with
// Content-Length or chunked. Every request is recorded, in arrival order, on
// a channel that several servers may share.

#[derive(Debug, Clone)]
pub struct Recorded {
    pub server: &'static str,
    pub method: String,
    pub path: String,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// When the whole request had arrived.
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} {}: body is not JSON ({e}): {}",
                self.method,
                self.path,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, content_type: &str, body: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type", content_type.to_owned())],
            body: body.to_string().into_bytes(),
        }
    }
}

/// What a server does with a request: a reply, or `None` to hold it unanswered
/// (the Runtime API's long poll) until the server is dropped.
pub type Handler = dyn Fn(&Recorded) -> Option<Reply> + Send + Sync;

/// A running server; dropping it stops it and releases the held requests.
pub struct HttpServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees `stop`.
        let _ = TcpStream::connect(self.addr);
    }
}

pub fn serve(
    name: &'static str,
    record: mpsc::Sender<Recorded>,
    handler: Arc<Handler>,
) -> HttpServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    thread::spawn(move || {
        for conn in listener.incoming() {
            if stopped.load(Ordering::SeqCst) {
                break;
            }
            let Ok(conn) = conn else { continue };
            let (record, handler, stopped) = (record.clone(), handler.clone(), stopped.clone());
            thread::spawn(move || connection(name, conn, &record, &*handler, &stopped));
        }
    });
    HttpServer { addr, stop }
}

fn connection(
    name: &'static str,
    conn: TcpStream,
    record: &mpsc::Sender<Recorded>,
    handler: &Handler,
    stop: &AtomicBool,
) {
    conn.set_read_timeout(Some(Duration::from_secs(600))).ok();
    conn.set_nodelay(true).ok();
    let mut writer = conn.try_clone().unwrap();
    let mut reader = BufReader::new(conn);
    while let Some(req) = read_request(name, &mut reader) {
        let _ = record.send(req.clone());
        match handler(&req) {
            Some(reply) => {
                let mut out = format!(
                    "HTTP/1.1 {} {}\r\nContent-Length: {}\r\n",
                    reply.status,
                    reason(reply.status),
                    reply.body.len()
                )
                .into_bytes();
                for (k, v) in &reply.headers {
                    out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
                }
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(&reply.body);
                // One write: no Nagle/delayed-ACK stall between head and body.
                if writer.write_all(&out).is_err() {
                    return;
                }
            }
            None => {
                while !stop.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(20));
                }
                return;
            }
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        _ => "Not Found",
    }
}

fn read_request(server: &'static str, r: &mut impl BufRead) -> Option<Recorded> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let mut body = Vec::new();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    let mut t = String::new();
                    if r.read_line(&mut t).ok()? == 0 || t.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk).ok()?;
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = headers.get("content-length") {
        body = vec![0; len.parse().ok()?];
        r.read_exact(&mut body).ok()?;
    }
    Some(Recorded {
        server,
        method,
        path,
        headers,
        body,
        at: Instant::now(),
    })
}

// ---------------------------------------------------------------------------
// The Lambda Runtime API.

/// `Recorded::server` of the Runtime API's requests.
pub const RUNTIME: &str = "runtime";
/// `Recorded::server` of the fake AWS endpoint's requests.
pub const AWS: &str = "aws";
pub const NEXT: &str = "/2018-06-01/runtime/invocation/next";
pub const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";

/// The request id of the `n`th invocation (from 0).
pub fn request_id(n: usize) -> String {
    format!("8476a536-e9f4-11e8-9739-{:012x}", 0x2dfe_598c_3fcd + n)
}

/// What the Runtime API does with the `next` that follows the last queued
/// invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterLast {
    /// Hold it, as Lambda does between invocations (the process stays alive).
    Wait,
    /// Answer an invocation without a valid `Lambda-Runtime-Deadline-Ms`:
    /// `lambda_runtime` cannot build its context, its `run` returns that
    /// error and the process exits (non-zero), without a signal.
    Exit,
}

/// The invocations the Runtime API hands out, in order.
pub struct Invocations {
    pub function: String,
    pub event: Value,
    pub count: usize,
    pub after_last: AfterLast,
    /// Hold every report (`/response`, `/error`, `/init/error`) unanswered:
    /// the runtime stops right after it has sent the first one.
    pub hold_reports: bool,
}

impl Invocations {
    /// One invocation, then the function waits for the next (as in Lambda).
    pub fn one(function: &str, event: &Value) -> Invocations {
        Invocations {
            function: function.to_owned(),
            event: event.clone(),
            count: 1,
            after_last: AfterLast::Wait,
            hold_reports: false,
        }
    }
}

/// The Runtime API: `next` gets the queued invocations one by one, then what
/// `after_last` says; reports are accepted with 202 (or held).
pub fn runtime_api(record: mpsc::Sender<Recorded>, queue: Invocations) -> HttpServer {
    let event = queue.event.to_string().into_bytes();
    let arn = format!(
        "arn:aws:lambda:us-east-1:111122223333:function:{}",
        queue.function
    );
    let served = AtomicUsize::new(0);
    let handler = move |req: &Recorded| -> Option<Reply> {
        if req.method == "GET" && req.path == NEXT {
            let n = served.fetch_add(1, Ordering::SeqCst);
            let deadline = if n < queue.count {
                let at =
                    SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(60);
                at.as_millis().to_string()
            } else if queue.after_last == AfterLast::Exit {
                "not-a-deadline".to_owned()
            } else {
                return None;
            };
            return Some(Reply {
                status: 200,
                headers: vec![
                    ("Content-Type", "application/json".into()),
                    ("Lambda-Runtime-Aws-Request-Id", request_id(n)),
                    ("Lambda-Runtime-Deadline-Ms", deadline),
                    ("Lambda-Runtime-Invoked-Function-Arn", arn.clone()),
                    (
                        "Lambda-Runtime-Trace-Id",
                        "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".into(),
                    ),
                ],
                body: event.clone(),
            });
        }
        if req.method == "POST" {
            if queue.hold_reports {
                return None;
            }
            return Some(Reply::json(
                202,
                "application/json",
                &json!({"status": "OK"}),
            ));
        }
        Some(Reply::json(
            404,
            "application/json",
            &json!({"errorType": "NotFound"}),
        ))
    };
    serve(RUNTIME, record, Arc::new(handler))
}

/// What a function reported to the Runtime API.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// POST /invocation/{id}/response.
    Response(Value),
    /// POST /invocation/{id}/error, with its Lambda-Runtime-Function-Error-Type.
    InvocationError(Option<String>, Value),
    /// POST /runtime/init/error.
    InitError(Value),
    /// The process ended without reporting anything.
    Exited(Option<i32>),
}

/// A report to the Runtime API: the invocation's request id (`None` for
/// /init/error) and what it says; `None` for any other request.
pub fn report(req: &Recorded) -> Option<(Option<String>, Outcome)> {
    if req.server != RUNTIME || req.method != "POST" {
        return None;
    }
    if req.path == INIT_ERROR {
        return Some((None, Outcome::InitError(req.json())));
    }
    let rest = req.path.strip_prefix("/2018-06-01/runtime/invocation/")?;
    let (id, kind) = rest.split_once('/')?;
    let outcome = match kind {
        "response" => Outcome::Response(req.json()),
        "error" => Outcome::InvocationError(
            req.header("lambda-runtime-function-error-type")
                .map(str::to_owned),
            req.json(),
        ),
        _ => return None,
    };
    Some((Some(id.to_owned()), outcome))
}

// ---------------------------------------------------------------------------
// A fake AWS endpoint (`AWS_ENDPOINT_URL`: every service on one loopback
// port, told apart by X-Amz-Target or, for SES's query protocol, `Action`).

/// What the fake AWS answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// SSM GetParameter of the given parameters; every other call is
    /// refused (AccessDeniedException, not retryable).
    SsmOnly,
    /// An account whose table is empty and whose writes all succeed:
    /// SSM GetParameter (the given parameters, else ParameterNotFound) and
    /// PutParameter; DynamoDB DescribeTable (ACTIVE), GetItem (no item),
    /// Query (no items), BatchGetItem (nothing), PutItem, UpdateItem and
    /// TransactWriteItems (done); EventBridge PutEvents (every entry
    /// accepted); SES SendRawEmail (a message id). Anything else is refused.
    EmptyAccount,
}

/// The fake AWS endpoint and the calls it refused.
pub struct FakeAws {
    pub server: HttpServer,
    refused: Arc<Mutex<Vec<String>>>,
}

impl FakeAws {
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// The calls refused so far (X-Amz-Target, or SES `Action`).
    pub fn refused(&self) -> Vec<String> {
        self.refused.lock().unwrap().clone()
    }
}

/// The operation of an AWS request: its X-Amz-Target (JSON protocols), or
/// the `Action` of a query-protocol form (SES).
pub fn aws_operation(req: &Recorded) -> String {
    if let Some(target) = req.header("x-amz-target") {
        return target.to_owned();
    }
    let body = String::from_utf8_lossy(&req.body);
    body.split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .map_or_else(|| format!("{} {}", req.method, req.path), str::to_owned)
}

pub fn fake_aws(
    record: mpsc::Sender<Recorded>,
    parameters: &[(&str, &str)],
    answers: Answers,
) -> FakeAws {
    let parameters: BTreeMap<String, String> = parameters
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let refused = Arc::new(Mutex::new(Vec::new()));
    let refusals = refused.clone();
    let handler = move |req: &Recorded| -> Option<Reply> {
        let op = aws_operation(req);
        if op == "AmazonSSM.GetParameter" {
            return Some(get_parameter(&parameters, &req.json()));
        }
        if answers == Answers::EmptyAccount {
            if let Some(reply) = empty_account(&op, req) {
                return Some(reply);
            }
        }
        refusals.lock().unwrap().push(op.clone());
        Some(Reply::json(
            400,
            "application/x-amz-json-1.0",
            &json!({"__type": "AccessDeniedException", "message": format!("fake AWS refuses {op}")}),
        ))
    };
    FakeAws {
        server: serve(AWS, record, Arc::new(handler)),
        refused,
    }
}

fn get_parameter(parameters: &BTreeMap<String, String>, request: &Value) -> Reply {
    let name = request["Name"].as_str().unwrap_or_default().to_owned();
    match parameters.get(&name) {
        Some(value) => Reply::json(
            200,
            "application/x-amz-json-1.1",
            &json!({"Parameter": {
                "Name": name, "Type": "SecureString", "Value": value, "Version": 1,
                "ARN": format!("arn:aws:ssm:us-east-1:111122223333:parameter{name}"),
                "DataType": "text", "LastModifiedDate": 1.7e9
            }}),
        ),
        None => Reply::json(
            400,
            "application/x-amz-json-1.1",
            &json!({"__type": "ParameterNotFound", "message": format!("no parameter {name}")}),
        ),
    }
}

/// The answers of [`Answers::EmptyAccount`] beyond GetParameter.
fn empty_account(op: &str, req: &Recorded) -> Option<Reply> {
    const DYNAMODB: &str = "application/x-amz-json-1.0";
    const JSON_1_1: &str = "application/x-amz-json-1.1";
    let reply = match op {
        "AmazonSSM.PutParameter" => Reply::json(
            200,
            JSON_1_1,
            &json!({"Version": 2, "Tier": "Standard"}),
        ),
        "DynamoDB_20120810.DescribeTable" => {
            let table = req.json()["TableName"].clone();
            Reply::json(
                200,
                DYNAMODB,
                &json!({"Table": {
                    "TableName": table, "TableStatus": "ACTIVE", "ItemCount": 0,
                    "TableArn": format!("arn:aws:dynamodb:us-east-1:111122223333:table/{}", table.as_str().unwrap_or_default()),
                    "CreationDateTime": 1.7e9,
                    "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}
                }}),
            )
        }
        "DynamoDB_20120810.GetItem"
        | "DynamoDB_20120810.PutItem"
        | "DynamoDB_20120810.UpdateItem"
        | "DynamoDB_20120810.TransactWriteItems" => Reply::json(200, DYNAMODB, &json!({})),
        "DynamoDB_20120810.Query" => Reply::json(
            200,
            DYNAMODB,
            &json!({"Items": [], "Count": 0, "ScannedCount": 0}),
        ),
        "DynamoDB_20120810.BatchGetItem" => Reply::json(
            200,
            DYNAMODB,
            &json!({"Responses": {}, "UnprocessedKeys": {}}),
        ),
        "AWSEvents.PutEvents" => {
            let count = req.json()["Entries"].as_array().map_or(0, Vec::len);
            let entries: Vec<Value> = (0..count)
                .map(|i| json!({"EventId": format!("11710aed-b79e-4468-a20b-{i:012x}")}))
                .collect();
            Reply::json(
                200,
                JSON_1_1,
                &json!({"FailedEntryCount": 0, "Entries": entries}),
            )
        }
        "SendRawEmail" => Reply {
            status: 200,
            headers: vec![("Content-Type", "text/xml".into())],
            body: b"<SendRawEmailResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\">\
                    <SendRawEmailResult><MessageId>0100019abc-fake-ses-000000</MessageId></SendRawEmailResult>\
                    <ResponseMetadata><RequestId>e0abcdfa-c866-11e0-b6d0-273d09173b49</RequestId></ResponseMetadata>\
                    </SendRawEmailResponse>"
                .to_vec(),
        },
        _ => return None,
    };
    Some(reply)
}

/// A loopback port nothing listens on: SDK calls to it fail at once.
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------------------
// The function's process.

/// Clears `cmd`'s environment and sets what Lambda sets for a
/// provided.al2023 function, test credentials, `aws_endpoint` as
/// `AWS_ENDPOINT_URL` (with `AWS_MAX_ATTEMPTS=1`: a refused call is not
/// retried) and the function's own variables.
pub fn lambda_env<'c>(
    cmd: &'c mut Command,
    function: &str,
    runtime_api: SocketAddr,
    aws_endpoint: &str,
    task_root: &Path,
    env: &[(&str, &str)],
) -> &'c mut Command {
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        )
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/11/25/[$LATEST]0123456789abcdef",
        )
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env("LAMBDA_TASK_ROOT", task_root)
        .env("_HANDLER", "bootstrap")
        .env("TZ", ":UTC")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_SESSION_TOKEN", "fake-session-token")
        // Test only: every SDK call goes to loopback.
        .env("AWS_ENDPOINT_URL", aws_endpoint)
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// A child process killed (and reaped) when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------------------
// Each function's variables (README table) and events.

pub const MASTER_ENV: &[(&str, &str)] = &[("TABLE_NAME", "monitoring-test")];
pub const REPORT_ENV: &[(&str, &str)] = &[
    ("TABLE_NAME", "monitoring-test"),
    ("SENDER", "reports@example.com"),
    ("RECIPIENTS", "ops@example.com,dev@example.com"),
];
pub const AGENT_ENV: &[(&str, &str)] = &[
    ("AGENT_ACCOUNT_ID", "444455556666"),
    ("AGENT_NAME", "packaging-test"),
    ("STATE_PARAMETER", "/monitoring/agent/state"),
];
pub const CURSOR_KEY_PARAMETER: &str = "/monitoring/test/cursor-key";
/// The api's SSM parameters: its cursor key.
pub const API_PARAMETERS: &[(&str, &str)] =
    &[(CURSOR_KEY_PARAMETER, "packaging-test-cursor-key-0123456789")];
pub const API_ENV: &[(&str, &str)] = &[
    ("TABLE_NAME", "monitoring-test"),
    ("CURSOR_KEY_PARAMETER", CURSOR_KEY_PARAMETER),
];
/// notify: one e-mail channel (SES, which the empty account answers), so
/// init reads no SSM parameter and an alert is sent for real.
pub const NOTIFY_ENV: &[(&str, &str)] = &[
    ("DELIVERIES_TABLE", "monitoring-test-deliveries"),
    (
        "ALERT_CHANNELS",
        r#"{"channels": [{"name": "ops-mail", "kind": "email", "to": ["ops@example.com"]}]}"#,
    ),
    ("ALERT_SENDER", "alerts@example.com"),
    ("TABLE_NAME", "monitoring-test"),
];

/// The variables of each function.
pub fn function_env(binary: &str) -> &'static [(&'static str, &'static str)] {
    match binary {
        "handle-monitoring-events" | "update-deployment" => MASTER_ENV,
        "daily-report" => REPORT_ENV,
        "query-error-logs" | "stream-error-logs" => AGENT_ENV,
        "api" => API_ENV,
        "notify" => NOTIFY_ENV,
        _ => &[],
    }
}

/// A CloudWatch Logs subscription payload as Lambda receives it: gzip then
/// base64 of a DATA_MESSAGE from `/aws/lambda/checkout` holding two
/// `ERROR payment ... failed: card declined` events a second apart (one
/// fingerprint, so one occurrence of count 2).
pub const SUBSCRIPTION_DATA: &str = "H4sIAAAAAAACA6WQS2/bMBCE/4pB9GhWXL7pm4GquSQoYOvU2Cj4WLlC9TAkukEQ5L+XbpNbghw64Gl2wNlvn8iAy+JP2DyekWzIl22z/XFX7/fbm5qsyfQw4lxsWaSKdFGx++l0M0+Xc5lU/mGpej+E5Kv4E+Ov6ZL/JfZ5Rj+UCGdcVwAVV9X9p9ttU++bI2sBeRJRBuW1M9Yap70KMorEEVpWvlguYYlzd87dNH7t+ozzQjb3ZJjGLk9zN55oWXvMFOd5KqPj39L6d7GuuSfSpdItrDBCcwVcOsXAMeBKC6mclYaBVYJryUEZYZnmIIFxIZS0tvTnrpwm+6FQgnFKM2bZVevXk72gUQDKVQNsw67vc4l8P+Sofet81NQEDSWCmjovgTqBNqFPAbE95Hq3+7Y75LN/HMreK2kAVq3vekybVfRzWiWMfTdiOozkef1/TO4dJviQCV6YkgktC8lQGw2nnLeG+qA49bJ12F6JGLzFxN9nOj7/AQTSujWCAgAA";

/// An EventBridge envelope without its `time`: malformed, skipped.
pub fn envelope_without_time(source: &str, detail_type: &str) -> Value {
    json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type, "source": source, "account": "444455556666",
        "region": "us-east-1", "resources": [], "detail": {}
    })
}

/// Why handle-monitoring-events, update-deployment and query-error-logs
/// skip [`envelope_without_time`].
pub const SKIPPED_WITHOUT_TIME: &str = "not an EventBridge envelope: missing field `time`";

/// A typed skip, as every envelope handler answers it.
pub fn skipped(reason: &str) -> Value {
    json!({"outcome": "skipped", "reason": reason})
}

/// An API Gateway REST (v1) proxy request.
pub fn rest_request(method: &str, path: &str) -> Value {
    json!({
        "resource": "/{proxy+}", "path": path, "httpMethod": method,
        "headers": {"Accept": "application/json", "Host": "abc123.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {"Accept": ["application/json"], "Host": ["abc123.execute-api.us-east-1.amazonaws.com"]},
        "queryStringParameters": null, "multiValueQueryStringParameters": null,
        "pathParameters": {"proxy": path.trim_start_matches('/')}, "stageVariables": null,
        "requestContext": {
            "accountId": "111122223333", "resourceId": "abc123", "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "extendedRequestId": "abcdefg=",
            "requestTime": "25/Nov/2026:10:00:00 +0000", "requestTimeEpoch": 1_795_600_800_000_u64,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "packaging-test",
                         "userArn": "arn:aws:iam::111122223333:user/ops", "accountId": "111122223333"},
            "resourcePath": "/{proxy+}", "httpMethod": method, "apiId": "abc123",
            "path": format!("/prod{path}"), "protocol": "HTTP/1.1", "domainName": "abc123.execute-api.us-east-1.amazonaws.com"
        },
        "body": null, "isBase64Encoded": false
    })
}

/// A function's everyday work, handled for real against
/// [`Answers::EmptyAccount`]: the event, and a check of the answer.
pub struct Workload {
    pub binary: &'static str,
    pub env: &'static [(&'static str, &'static str)],
    /// The SSM parameters the fake AWS holds.
    pub parameters: &'static [(&'static str, &'static str)],
    pub event: Value,
    /// The AWS calls one invocation makes (after init).
    pub calls: &'static str,
    /// `Ok` when the response is the handled event's.
    pub check: fn(&Value) -> Result<(), String>,
}

fn expect_json(expected: Value) -> impl Fn(&Value) -> Result<(), String> {
    move |got| {
        if *got == expected {
            Ok(())
        } else {
            Err(format!("expected {expected}, got {got}"))
        }
    }
}

/// The workload of each of the six functions: an event each handles in
/// full (no skip, no error) against an empty account.
pub fn workload(binary: &str) -> Option<Workload> {
    let w = match binary {
        "handle-monitoring-events" => Workload {
            binary: "handle-monitoring-events",
            env: MASTER_ENV,
            parameters: &[],
            event: json!({
                "version": "0", "id": "c8c4daa7-a20c-2f03-0070-b7393dd542ad",
                "detail-type": "GuardDuty Finding", "source": "aws.guardduty",
                "account": "111122223333", "time": "2026-11-25T08:12:44Z", "region": "us-east-1",
                "resources": [],
                "detail": {
                    "schemaVersion": "2.0", "accountId": "111122223333", "region": "us-east-1",
                    "partition": "aws", "id": "16afba5c5c43e07c9e3e5e2e544e95df",
                    "arn": "arn:aws:guardduty:us-east-1:111122223333:detector/123456789012abcdef0123456789abcd/finding/16afba5c5c43e07c9e3e5e2e544e95df",
                    "type": "UnauthorizedAccess:EC2/SSHBruteForce",
                    "resource": {"resourceType": "Instance",
                                 "instanceDetails": {"instanceId": "i-99999999", "instanceType": "m3.xlarge"}},
                    "service": {"serviceName": "guardduty", "detectorId": "123456789012abcdef0123456789abcd",
                                "action": {"actionType": "NETWORK_CONNECTION"},
                                "eventFirstSeen": "2026-11-25T08:02:10Z", "eventLastSeen": "2026-11-25T08:11:58Z",
                                "archived": false, "count": 3},
                    "severity": 8, "createdAt": "2026-11-25T08:05:00.000Z", "updatedAt": "2026-11-25T08:12:00.000Z",
                    "title": "198.51.100.0 is performing SSH brute force attacks against i-99999999.",
                    "description": "198.51.100.0 is performing SSH brute force attacks against i-99999999."
                }
            }),
            calls: "GetItem x2, UpdateItem (once a day), TransactWriteItems",
            check: |v| expect_json(json!({"outcome": "stored"}))(v),
        },
        "update-deployment" => Workload {
            binary: "update-deployment",
            env: MASTER_ENV,
            parameters: &[],
            event: json!({
                "version": "0", "id": "0d6c4a2e-9a51-4f0b-8a43-5c1b7f2e9d10",
                "detail-type": "Agent Heartbeat", "source": "monitoring.agent",
                "account": "444455556666", "time": "2026-11-25T08:15:00Z", "region": "us-east-1",
                "resources": [],
                "detail": {"name": "bench-agent", "version": "0.1.0", "config_version": 1}
            }),
            calls: "GetItem, PutItem",
            check: |v| expect_json(json!({"outcome": "agent_updated"}))(v),
        },
        "daily-report" => Workload {
            binary: "daily-report",
            env: REPORT_ENV,
            parameters: &[],
            event: json!({"date": "2026-11-24"}),
            calls: "Query x2, SES SendRawEmail",
            check: |v| expect_json(json!({"sent": "0100019abc-fake-ses-000000"}))(v),
        },
        "query-error-logs" => Workload {
            binary: "query-error-logs",
            env: AGENT_ENV,
            parameters: &[],
            event: json!({"action": "register"}),
            calls: "GetParameter (state), PutEvents, PutParameter",
            check: |v| expect_json(json!({"registered": true}))(v),
        },
        "stream-error-logs" => Workload {
            binary: "stream-error-logs",
            env: AGENT_ENV,
            parameters: &[],
            event: json!({"awslogs": {"data": SUBSCRIPTION_DATA}}),
            calls: "GetParameter (state), PutEvents",
            check: |v| {
                expect_json(json!({
                    "outcome": "published", "log_events": 2, "records_matched": 2,
                    "occurrences_published": 1
                }))(v)
            },
        },
        "api" => Workload {
            binary: "api",
            env: API_ENV,
            parameters: API_PARAMETERS,
            event: rest_request("GET", "/events"),
            calls: "Query",
            check: |v| {
                if v["statusCode"] != 200 {
                    return Err(format!("expected statusCode 200: {v}"));
                }
                let body: Value = serde_json::from_str(v["body"].as_str().unwrap_or_default())
                    .map_err(|e| format!("the body is not JSON ({e}): {v}"))?;
                match body.get("items") {
                    Some(Value::Array(items)) if items.is_empty() => Ok(()),
                    _ => Err(format!("expected an empty page of events: {body}")),
                }
            },
        },
        "notify" => Workload {
            binary: "notify",
            env: NOTIFY_ENV,
            parameters: &[],
            event: notify_stream_batch(),
            calls: "GetItem, TransactWriteItems, SES SendRawEmail, Query (summaries due)",
            check: |v| expect_json(json!({"batchItemFailures": []}))(v),
        },
        _ => return None,
    };
    Some(w)
}

/// A DynamoDB Streams batch as Lambda delivers it to notify: one new
/// critical event (INSERT of its item, `NEW_AND_OLD_IMAGES`), which alerts.
pub fn notify_stream_batch() -> Value {
    let id = "5f0c3a9e7b1d42c6a8e9f0b1c2d3e4f5";
    let event = json!({
        "id": id, "account": "111122223333", "region": "us-east-1",
        "source": "aws.guardduty", "detail_type": "GuardDuty Finding",
        "severity": "critical", "status": "open",
        "title": "198.51.100.0 is performing SSH brute force attacks against i-99999999.",
        "fingerprint": "0123456789abcdef", "count": 1,
        "first_seen": "2026-11-25T08:12:44Z", "last_seen": "2026-11-25T08:12:44Z",
        "log_group": null, "sample": "SSH brute force", "resources": [], "detail": {},
        "note": null, "assignee": null, "updated_at": "2026-11-25T08:12:44Z", "version": 1
    });
    json!({"Records": [{
        "eventID": "c4ca4238a0b923820dcc509a6f75849b",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_795_600_364_u64,
            "Keys": {"PK": {"S": format!("EVENT#{id}")}, "SK": {"S": "EVENT"}},
            "NewImage": {
                "PK": {"S": format!("EVENT#{id}")}, "SK": {"S": "EVENT"},
                "body": {"S": event.to_string()}, "rev": {"N": "1"}
            },
            "SequenceNumber": "111100000000012345678901",
            "SizeBytes": 812,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:111122223333:table/monitoring-test/stream/2026-11-25T00:00:00.000"
    }]})
}
