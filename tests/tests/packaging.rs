//! The Lambda packages that `ops/build` writes, checked as Lambda would use
//! them: `target/lambda/<binary>/bootstrap.zip` holds exactly one entry,
//! `bootstrap`, mode 0755; it is an ELF for the build's architecture (`ARCH`,
//! as for ops/build: x86_64 by default, or arm64) that needs at most GLIBC
//! 2.34 (Amazon Linux 2023, runtime `provided.al2023`) and no shared library
//! beyond glibc's and libgcc_s; and the packaged binary answers an event
//! through a mock of the Lambda Runtime API.
//!
//! Without the packages these tests print a notice and pass, unless
//! `PACKAGING_CHECKS=1` (as in ops/test, after ops/build), where a missing
//! package fails them.
//!
//! The binaries talk to a recording fake AWS endpoint (`AWS_ENDPOINT_URL`)
//! that answers only SSM GetParameter for the parameters a test gives it and
//! refuses every other call; `AWS_MAX_ATTEMPTS=1` keeps a refused call from
//! being retried. Each fixture is answered without any AWS call, which the
//! tests check: no AWS request arrives once the invocation has been fetched.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The Lambda functions; the `monitoring` CLI is never packaged.
const BINARIES: [&str; 5] = [
    "handle-monitoring-events",
    "update-deployment",
    "daily-report",
    "query-error-logs",
    "api",
];

/// Amazon Linux 2023's glibc.
const MAX_GLIBC: [u32; 2] = [2, 34];

/// Shared libraries every Lambda runtime image has.
const ALLOWED_LIBRARIES: [&str; 8] = [
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "librt.so.1",
    "libpthread.so.0",
    "libgcc_s.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
];

/// How long a binary may take to answer (its SDK calls fail at once).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// Where the packages are, and whether they must be.

fn lambda_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) if Path::new(&t).is_absolute() => PathBuf::from(t),
        Some(t) => root.join(t),
        None => root.join("target"),
    };
    target.join("lambda")
}

fn package(binary: &str) -> PathBuf {
    lambda_dir().join(binary).join("bootstrap.zip")
}

/// The five packages, or `None` (after a notice) when they are absent and
/// `PACKAGING_CHECKS` is not 1.
fn packages() -> Option<Vec<(&'static str, PathBuf)>> {
    let all: Vec<(&str, PathBuf)> = BINARIES.iter().map(|b| (*b, package(b))).collect();
    let missing: Vec<String> = all
        .iter()
        .filter(|(_, p)| !p.is_file())
        .map(|(_, p)| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return Some(all);
    }
    if std::env::var("PACKAGING_CHECKS").is_ok_and(|v| v == "1") {
        panic!(
            "PACKAGING_CHECKS=1 but these Lambda packages are missing (run ops/build first):\n  {}",
            missing.join("\n  ")
        );
    }
    eprintln!(
        "packaging checks skipped: no Lambda packages in {} (run ops/build, then \
         PACKAGING_CHECKS=1 cargo test -p e2e-tests --test packaging)",
        lambda_dir().display()
    );
    None
}

/// The architecture the packages are built for: `ARCH`, as for ops/build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Arch {
    name: &'static str,
    e_machine: u16,
    interpreter: &'static str,
    host: &'static str,
}

const X86_64: Arch = Arch {
    name: "x86_64",
    e_machine: 0x3E,
    interpreter: "/lib64/ld-linux-x86-64.so.2",
    host: "x86_64",
};
const ARM64: Arch = Arch {
    name: "arm64",
    e_machine: 0xB7,
    interpreter: "/lib/ld-linux-aarch64.so.1",
    host: "aarch64",
};

fn expected_arch() -> Arch {
    match std::env::var("ARCH").as_deref() {
        Err(_) | Ok("") | Ok("x86_64") | Ok("x86-64") | Ok("amd64") => X86_64,
        Ok("arm64") | Ok("aarch64") => ARM64,
        Ok(other) => panic!("ARCH must be x86_64 or arm64, not {other}"),
    }
}

// ---------------------------------------------------------------------------
// Zip: the central directory, read by hand (names, sizes, Unix modes).

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

#[derive(Debug)]
struct ZipEntry {
    name: String,
    /// The "version made by" host system: 3 is Unix (mode in the external attributes).
    host_system: u8,
    /// `st_mode`: file type and permissions.
    mode: u32,
    size: u64,
}

fn zip_entries(zip: &Path) -> Vec<ZipEntry> {
    let data = std::fs::read(zip).unwrap();
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
fn unzip_entry(zip: &Path, name: &str, dest: &Path) {
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
fn unpack(zip: &Path, dir: &Path) -> PathBuf {
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
// ELF64 little-endian: header, interpreter, needed libraries and the glibc
// versions of .gnu.version_r, read by hand.

struct Section {
    kind: u32,
    offset: usize,
    size: usize,
    link: u32,
    info: u32,
}

struct Elf {
    data: Vec<u8>,
    e_type: u16,
    e_machine: u16,
    sections: Vec<Section>,
    interpreter: Option<String>,
}

const SHT_DYNAMIC: u32 = 6;
const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
const PT_INTERP: u32 = 3;
const DT_NEEDED: u64 = 1;

impl Elf {
    fn parse(data: Vec<u8>, what: &str) -> Elf {
        assert!(
            data.len() > 64 && data[..4] == *b"\x7fELF",
            "{what}: not an ELF file (magic {:02x?})",
            &data[..4.min(data.len())]
        );
        assert_eq!(data[4], 2, "{what}: not a 64-bit ELF (EI_CLASS)");
        assert_eq!(data[5], 1, "{what}: not a little-endian ELF (EI_DATA)");
        let e_type = u16_at(&data, 16);
        let e_machine = u16_at(&data, 18);
        let phoff = u64_at(&data, 32) as usize;
        let shoff = u64_at(&data, 40) as usize;
        let phentsize = u16_at(&data, 54) as usize;
        let phnum = u16_at(&data, 56) as usize;
        let shentsize = u16_at(&data, 58) as usize;
        let shnum = u16_at(&data, 60) as usize;
        let mut interpreter = None;
        for i in 0..phnum {
            let ph = phoff + i * phentsize;
            if u32_at(&data, ph) == PT_INTERP {
                let (off, len) = (
                    u64_at(&data, ph + 8) as usize,
                    u64_at(&data, ph + 32) as usize,
                );
                let raw = &data[off..off + len];
                let raw = raw.split(|&b| b == 0).next().unwrap_or_default();
                interpreter = Some(String::from_utf8_lossy(raw).into_owned());
            }
        }
        let sections = (0..shnum)
            .map(|i| {
                let sh = shoff + i * shentsize;
                Section {
                    kind: u32_at(&data, sh + 4),
                    offset: u64_at(&data, sh + 24) as usize,
                    size: u64_at(&data, sh + 32) as usize,
                    link: u32_at(&data, sh + 40),
                    info: u32_at(&data, sh + 44),
                }
            })
            .collect();
        Elf {
            data,
            e_type,
            e_machine,
            sections,
            interpreter,
        }
    }

    fn string(&self, table: u32, at: usize) -> String {
        let s = &self.sections[table as usize];
        let raw = &self.data[s.offset + at..s.offset + s.size];
        let raw = raw.split(|&b| b == 0).next().unwrap_or_default();
        String::from_utf8_lossy(raw).into_owned()
    }

    /// DT_NEEDED: the shared libraries the binary loads.
    fn needed(&self) -> Vec<String> {
        let mut libs = Vec::new();
        for s in self.sections.iter().filter(|s| s.kind == SHT_DYNAMIC) {
            for at in (s.offset..s.offset + s.size).step_by(16) {
                let tag = u64_at(&self.data, at);
                if tag == 0 {
                    break;
                }
                if tag == DT_NEEDED {
                    libs.push(self.string(s.link, u64_at(&self.data, at + 8) as usize));
                }
            }
        }
        libs
    }

    /// `.gnu.version_r`: (library, version) pairs, e.g. ("libc.so.6", "GLIBC_2.17").
    fn version_needs(&self) -> Vec<(String, String)> {
        let mut needs = Vec::new();
        for s in self.sections.iter().filter(|s| s.kind == SHT_GNU_VERNEED) {
            let mut vn = s.offset;
            for _ in 0..s.info {
                let file = self.string(s.link, u32_at(&self.data, vn + 4) as usize);
                let mut aux = vn + u32_at(&self.data, vn + 8) as usize;
                for _ in 0..u16_at(&self.data, vn + 2) {
                    let name = self.string(s.link, u32_at(&self.data, aux + 8) as usize);
                    needs.push((file.clone(), name));
                    aux += u32_at(&self.data, aux + 12) as usize;
                }
                let next = u32_at(&self.data, vn + 12) as usize;
                if next == 0 {
                    break;
                }
                vn += next;
            }
        }
        needs
    }
}

/// "GLIBC_2.17" → [2, 17]; `None` for GLIBC_PRIVATE and other libraries' versions.
fn glibc_version(name: &str) -> Option<Vec<u32>> {
    let v = name.strip_prefix("GLIBC_")?;
    v.split('.').map(|n| n.parse().ok()).collect()
}

fn dotted(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(".")
}

// ---------------------------------------------------------------------------
// A small HTTP/1.1 server: a thread per connection, keep-alive, bodies with
// Content-Length or chunked. Every request is recorded, in arrival order, on
// a channel that several servers may share.

#[derive(Debug, Clone)]
struct Recorded {
    server: &'static str,
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    fn json(&self) -> Value {
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

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(status: u16, content_type: &str, body: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type", content_type.to_owned())],
            body: body.to_string().into_bytes(),
        }
    }
}

/// What a server does with a request: a reply, or `None` to hold it unanswered
/// (the Runtime API's long poll) until the server is dropped.
type Handler = dyn Fn(&Recorded) -> Option<Reply> + Send + Sync;

struct HttpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees `stop`.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(name: &'static str, record: mpsc::Sender<Recorded>, handler: Arc<Handler>) -> HttpServer {
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
    conn.set_read_timeout(Some(Duration::from_secs(120))).ok();
    let mut writer = conn.try_clone().unwrap();
    let mut reader = BufReader::new(conn);
    while let Some(req) = read_request(name, &mut reader) {
        let _ = record.send(req.clone());
        match handler(&req) {
            Some(reply) => {
                let mut head = format!(
                    "HTTP/1.1 {} {}\r\nContent-Length: {}\r\n",
                    reply.status,
                    reason(reply.status),
                    reply.body.len()
                );
                for (k, v) in &reply.headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                if writer.write_all(head.as_bytes()).is_err()
                    || writer.write_all(&reply.body).is_err()
                {
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
    })
}

// ---------------------------------------------------------------------------
// The Lambda Runtime API and a fake AWS endpoint.

const RUNTIME: &str = "runtime";
const AWS: &str = "aws";
const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";
const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

/// The Runtime API: the first `next` gets the event, later ones wait (as
/// they do in Lambda between invocations); reports are accepted.
fn runtime_api(record: mpsc::Sender<Recorded>, function: &str, event: &Value) -> HttpServer {
    let event = event.to_string();
    let arn = format!("arn:aws:lambda:us-east-1:111122223333:function:{function}");
    let served = AtomicBool::new(false);
    let handler = move |req: &Recorded| -> Option<Reply> {
        if req.method == "GET" && req.path == NEXT {
            if served.swap(true, Ordering::SeqCst) {
                return None;
            }
            let deadline =
                SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(60);
            return Some(Reply {
                status: 200,
                headers: vec![
                    ("Content-Type", "application/json".into()),
                    ("Lambda-Runtime-Aws-Request-Id", REQUEST_ID.into()),
                    ("Lambda-Runtime-Deadline-Ms", deadline.as_millis().to_string()),
                    ("Lambda-Runtime-Invoked-Function-Arn", arn.clone()),
                    (
                        "Lambda-Runtime-Trace-Id",
                        "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".into(),
                    ),
                ],
                body: event.clone().into_bytes(),
            });
        }
        if req.method == "POST" {
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

/// A fake AWS endpoint (JSON protocols): SSM GetParameter of the given
/// parameters; every other call is refused, not retryable.
fn fake_aws(record: mpsc::Sender<Recorded>, parameters: &[(&str, &str)]) -> HttpServer {
    let parameters: BTreeMap<String, String> = parameters
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let handler = move |req: &Recorded| -> Option<Reply> {
        let target = req.header("x-amz-target").unwrap_or_default();
        if target == "AmazonSSM.GetParameter" {
            let name = req.json()["Name"].as_str().unwrap_or_default().to_owned();
            return Some(match parameters.get(&name) {
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
            });
        }
        Some(Reply::json(
            400,
            "application/x-amz-json-1.0",
            &json!({"__type": "AccessDeniedException", "message": format!("fake AWS refuses {target}")}),
        ))
    };
    serve(AWS, record, Arc::new(handler))
}

/// A loopback port nothing listens on: SDK calls to it fail at once.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------------------
// Running a packaged bootstrap for one event.

#[derive(Debug)]
enum Outcome {
    /// POST /invocation/{id}/response.
    Response(Value),
    /// POST /invocation/{id}/error, with its Lambda-Runtime-Function-Error-Type.
    InvocationError(Option<String>, Value),
    /// POST /runtime/init/error.
    InitError(Value),
    /// The process ended without reporting anything.
    Exited(Option<i32>),
}

struct Invocation {
    outcome: Outcome,
    /// Every request to the Runtime API and to the fake AWS, in arrival order.
    requests: Vec<Recorded>,
    stdout: String,
    stderr: String,
}

impl Invocation {
    fn fetched_the_event(&self) -> bool {
        self.requests
            .iter()
            .any(|r| r.server == RUNTIME && r.method == "GET" && r.path == NEXT)
    }

    /// AWS calls made after the event was fetched (the warm-up calls of
    /// init come before it).
    fn aws_calls_during_invocation(&self) -> Vec<String> {
        self.requests
            .iter()
            .skip_while(|r| !(r.server == RUNTIME && r.path == NEXT))
            .filter(|r| r.server == AWS)
            .map(|r| r.header("x-amz-target").unwrap_or(&r.path).to_owned())
            .collect()
    }

    fn logs(&self) -> String {
        format!("--- stdout:\n{}\n--- stderr:\n{}", self.stdout, self.stderr)
    }
}

struct Function<'a> {
    binary: &'static str,
    env: &'a [(&'a str, &'a str)],
    event: Value,
    /// SSM parameters the fake AWS serves; `None`: AWS_ENDPOINT_URL is a closed port.
    aws: Option<&'a [(&'a str, &'a str)]>,
}

/// Unpacks the function's package, runs its bootstrap as Lambda would with the
/// event waiting on the Runtime API, and stops it once it has reported.
/// `None` when the packages are absent (skipped) or built for another CPU.
fn invoke(f: &Function) -> Option<Invocation> {
    packages()?;
    let arch = expected_arch();
    if arch.host != std::env::consts::ARCH {
        eprintln!(
            "{}: built for {}, cannot run on {}: invocation check skipped",
            f.binary,
            arch.name,
            std::env::consts::ARCH
        );
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = unpack(&package(f.binary), dir.path());

    let (tx, rx) = mpsc::channel();
    let runtime = runtime_api(tx.clone(), f.binary, &f.event);
    let aws = f.aws.map(|params| fake_aws(tx.clone(), params));
    drop(tx);
    let endpoint = match &aws {
        Some(s) => format!("http://{}", s.addr),
        None => format!("http://127.0.0.1:{}", closed_port()),
    };

    let stdout_path = dir.path().join("stdout");
    let stderr_path = dir.path().join("stderr");
    let mut cmd = Command::new(&bootstrap);
    cmd.env_clear()
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).unwrap())
        .stderr(File::create(&stderr_path).unwrap())
        // What Lambda sets for a provided.al2023 function.
        .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", f.binary)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", f.binary),
        )
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/11/25/[$LATEST]0123456789abcdef",
        )
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env("LAMBDA_TASK_ROOT", dir.path())
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
        // Test only: every SDK call goes to loopback and fails at once.
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in f.env {
        cmd.env(k, v);
    }
    let mut child = KillOnDrop(cmd.spawn().unwrap());

    let mut requests = Vec::new();
    let started = Instant::now();
    let outcome = loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(req) => {
                let done = terminal(&req);
                requests.push(req);
                if let Some(outcome) = done {
                    break outcome;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => unreachable!("the servers keep a sender"),
        }
        if let Some(status) = child.0.try_wait().unwrap() {
            // Whatever it sent just before exiting.
            thread::sleep(Duration::from_millis(100));
            requests.extend(rx.try_iter());
            break Outcome::Exited(status.code());
        }
        if started.elapsed() > ANSWER_TIMEOUT {
            let _ = child.0.kill();
            let _ = child.0.wait();
            panic!(
                "{}: no report to the Runtime API in {ANSWER_TIMEOUT:?}; requests: {:?}\n{}",
                f.binary,
                requests
                    .iter()
                    .map(|r| format!("{} {} {}", r.server, r.method, r.path))
                    .collect::<Vec<_>>(),
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
    };
    let _ = child.0.kill();
    let _ = child.0.wait();
    requests.extend(rx.try_iter());
    drop(runtime);
    drop(aws);
    Some(Invocation {
        outcome,
        requests,
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    })
}

/// A report that ends the invocation.
fn terminal(req: &Recorded) -> Option<Outcome> {
    if req.server != RUNTIME || req.method != "POST" {
        return None;
    }
    if req.path == INIT_ERROR {
        return Some(Outcome::InitError(req.json()));
    }
    let rest = req.path.strip_prefix("/2018-06-01/runtime/invocation/")?;
    let (id, kind) = rest.split_once('/')?;
    assert_eq!(
        id, REQUEST_ID,
        "report for an unknown request id: {}",
        req.path
    );
    match kind {
        "response" => Some(Outcome::Response(req.json())),
        "error" => Some(Outcome::InvocationError(
            req.header("lambda-runtime-function-error-type")
                .map(str::to_owned),
            req.json(),
        )),
        _ => None,
    }
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------------------
// Fixtures and each function's required variables (README table).

const MASTER_ENV: &[(&str, &str)] = &[("TABLE_NAME", "monitoring-test")];
const REPORT_ENV: &[(&str, &str)] = &[
    ("TABLE_NAME", "monitoring-test"),
    ("SENDER", "reports@example.com"),
    ("RECIPIENTS", "ops@example.com,dev@example.com"),
];
const AGENT_ENV: &[(&str, &str)] = &[
    ("AGENT_ACCOUNT_ID", "444455556666"),
    ("AGENT_NAME", "packaging-test"),
    (
        "MASTER_EVENT_BUS_ARN",
        "arn:aws:events:us-east-1:111122223333:event-bus/monitoring",
    ),
    ("STATE_PARAMETER", "/monitoring/agent/state"),
];
const CURSOR_KEY_PARAMETER: &str = "/monitoring/test/cursor-key";
const API_ENV: &[(&str, &str)] = &[
    ("TABLE_NAME", "monitoring-test"),
    ("CURSOR_KEY_PARAMETER", CURSOR_KEY_PARAMETER),
];

/// An EventBridge envelope without its `time`: malformed, skipped.
fn envelope_without_time(source: &str, detail_type: &str) -> Value {
    json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type, "source": source, "account": "444455556666",
        "region": "us-east-1", "resources": [], "detail": {}
    })
}

const SKIPPED_WITHOUT_TIME: &str = "Skipped(\"not an EventBridge envelope: missing field `time`\")";

/// An API Gateway REST (v1) proxy request.
fn rest_request(method: &str, path: &str) -> Value {
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

// ---------------------------------------------------------------------------
// The checks.

#[test]
fn each_package_is_one_executable_bootstrap_for_amazon_linux_2023() {
    let Some(packages) = packages() else { return };
    let arch = expected_arch();
    let mut summary = Vec::new();
    for (binary, zip) in packages {
        let what = zip.display().to_string();
        let entries = zip_entries(&zip);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["bootstrap"], "{what}: exactly one entry, bootstrap");
        let entry = &entries[0];
        assert_eq!(
            entry.host_system, 3,
            "{what}: bootstrap must carry Unix attributes (made by Unix)"
        );
        assert_eq!(
            entry.mode & 0o170_000,
            0o100_000,
            "{what}: bootstrap must be a regular file, mode {:o}",
            entry.mode
        );
        assert_eq!(
            entry.mode & 0o7777,
            0o755,
            "{what}: bootstrap must have mode 0755, not {:o}",
            entry.mode & 0o7777
        );

        let dir = tempfile::tempdir().unwrap();
        let bootstrap = dir.path().join("bootstrap");
        unzip_entry(&zip, "bootstrap", &bootstrap);
        let data = std::fs::read(&bootstrap).unwrap();
        assert_eq!(data.len() as u64, entry.size, "{what}: inflated size");
        let elf = Elf::parse(data, &what);
        assert_eq!(
            elf.e_machine, arch.e_machine,
            "{what}: e_machine {:#x}, but ARCH={} wants {:#x}",
            elf.e_machine, arch.name, arch.e_machine
        );
        assert!(
            elf.e_type == 2 || elf.e_type == 3,
            "{what}: not an executable (e_type {})",
            elf.e_type
        );
        assert_eq!(
            elf.interpreter.as_deref(),
            Some(arch.interpreter),
            "{what}: dynamic loader"
        );

        let needed = elf.needed();
        let unexpected: Vec<&String> = needed
            .iter()
            .filter(|l| !ALLOWED_LIBRARIES.contains(&l.as_str()))
            .collect();
        assert!(
            unexpected.is_empty(),
            "{what}: needs shared libraries the Lambda runtime lacks: {unexpected:?}"
        );

        let needs = elf.version_needs();
        let glibc: Vec<(Vec<u32>, &str)> = needs
            .iter()
            .filter_map(|(_, v)| Some((glibc_version(v)?, v.as_str())))
            .collect();
        let (newest, _) = glibc.iter().max().unwrap_or_else(|| {
            panic!("{what}: no GLIBC version needs (.gnu.version_r): {needs:?}")
        });
        let too_new: Vec<&str> = glibc
            .iter()
            .filter(|(v, _)| v.as_slice() > MAX_GLIBC.as_slice())
            .map(|(_, n)| *n)
            .collect();
        assert!(
            too_new.is_empty(),
            "{what}: needs {too_new:?}, newer than Amazon Linux 2023's GLIBC_{}",
            dotted(&MAX_GLIBC)
        );
        summary.push(format!(
            "{binary:<26} {:>10} bytes zipped, {:>10} unzipped, {} ELF, newest GLIBC_{}, needs {}",
            std::fs::metadata(&zip).unwrap().len(),
            entry.size,
            arch.name,
            dotted(newest),
            needed.join(" ")
        ));
    }
    println!("{}", summary.join("\n"));
}

#[test]
fn handle_monitoring_events_skips_a_malformed_envelope_without_aws() {
    let Some(run) = invoke(&Function {
        binary: "handle-monitoring-events",
        env: MASTER_ENV,
        event: envelope_without_time("monitoring.agent", "Error Occurrence"),
        aws: Some(&[]),
    }) else {
        return;
    };
    let Outcome::Response(body) = &run.outcome else {
        panic!("expected a response, got {:?}\n{}", run.outcome, run.logs());
    };
    assert_eq!(
        body,
        &json!({ "outcome": SKIPPED_WITHOUT_TIME }),
        "{}",
        run.logs()
    );
    assert_eq!(run.aws_calls_during_invocation(), Vec::<String>::new());
    assert!(
        run.stdout.contains("event skipped"),
        "the skip is logged:\n{}",
        run.logs()
    );
}

#[test]
fn update_deployment_skips_a_malformed_envelope_without_aws() {
    let Some(run) = invoke(&Function {
        binary: "update-deployment",
        env: MASTER_ENV,
        event: envelope_without_time("monitoring.agent", "Agent Heartbeat"),
        aws: Some(&[]),
    }) else {
        return;
    };
    let Outcome::Response(body) = &run.outcome else {
        panic!("expected a response, got {:?}\n{}", run.outcome, run.logs());
    };
    assert_eq!(
        body,
        &json!({ "outcome": SKIPPED_WITHOUT_TIME }),
        "{}",
        run.logs()
    );
    assert_eq!(run.aws_calls_during_invocation(), Vec::<String>::new());
}

#[test]
fn daily_report_reports_a_bad_date_as_an_invocation_error() {
    let Some(run) = invoke(&Function {
        binary: "daily-report",
        env: REPORT_ENV,
        event: json!({"date": "not-a-date"}),
        aws: Some(&[]),
    }) else {
        return;
    };
    let Outcome::InvocationError(kind, body) = &run.outcome else {
        panic!(
            "expected an invocation error, got {:?}\n{}",
            run.outcome,
            run.logs()
        );
    };
    assert_eq!(kind.as_deref(), Some("unhandled"));
    let message = body["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("date \"not-a-date\": "),
        "errorMessage names the bad date: {body}"
    );
    assert!(body["errorType"].is_string(), "{body}");
    assert_eq!(run.aws_calls_during_invocation(), Vec::<String>::new());
}

#[test]
fn query_error_logs_skips_a_malformed_config_push_without_aws() {
    let Some(run) = invoke(&Function {
        binary: "query-error-logs",
        env: AGENT_ENV,
        event: envelope_without_time("monitoring.master", "Agent Config Update"),
        aws: Some(&[]),
    }) else {
        return;
    };
    let Outcome::Response(body) = &run.outcome else {
        panic!("expected a response, got {:?}\n{}", run.outcome, run.logs());
    };
    assert_eq!(
        body,
        &json!({"skipped": "not an EventBridge envelope: missing field `time`"}),
        "{}",
        run.logs()
    );
    assert_eq!(run.aws_calls_during_invocation(), Vec::<String>::new());
}

#[test]
fn api_answers_an_unknown_route_with_a_404_without_aws() {
    let Some(run) = invoke(&Function {
        binary: "api",
        env: API_ENV,
        event: rest_request("GET", "/nope"),
        aws: Some(&[(CURSOR_KEY_PARAMETER, "packaging-test-cursor-key-0123456789")]),
    }) else {
        return;
    };
    let Outcome::Response(body) = &run.outcome else {
        panic!("expected a response, got {:?}\n{}", run.outcome, run.logs());
    };
    assert_eq!(body["statusCode"], 404, "{body}");
    let inner: Value = serde_json::from_str(body["body"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("the body is JSON ({e}): {body}"));
    assert_eq!(inner["error"]["code"], "not_found", "{inner}");
    assert!(
        inner["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("/nope"),
        "{inner}"
    );
    // The cursor key was read at start-up, before the first event.
    let init_calls: Vec<&str> = run
        .requests
        .iter()
        .take_while(|r| !(r.server == RUNTIME && r.path == NEXT))
        .filter(|r| r.server == AWS)
        .filter_map(|r| r.header("x-amz-target"))
        .collect();
    assert!(
        init_calls.contains(&"AmazonSSM.GetParameter"),
        "{init_calls:?}"
    );
    assert_eq!(run.aws_calls_during_invocation(), Vec::<String>::new());
}

/// Without its cursor key the api cannot start. It says so naming the
/// parameter, and never takes an event: either it reports to /init/error or,
/// as today (the key is read before the runtime loop starts), it exits
/// non-zero with the error on stderr, which Lambda reports as
/// `Runtime.ExitError` with that log line.
#[test]
fn api_fails_its_init_naming_the_cursor_key_parameter_when_ssm_is_unreachable() {
    let Some(run) = invoke(&Function {
        binary: "api",
        env: API_ENV,
        event: rest_request("GET", "/events"),
        aws: None,
    }) else {
        return;
    };
    assert!(
        !run.fetched_the_event(),
        "init failed, so no event: {}",
        run.logs()
    );
    match &run.outcome {
        Outcome::InitError(body) => {
            assert!(body.to_string().contains(CURSOR_KEY_PARAMETER), "{body}");
        }
        Outcome::Exited(code) => {
            assert!(
                code.is_some_and(|c| c != 0),
                "exit code {code:?}\n{}",
                run.logs()
            );
            assert!(
                run.stderr
                    .contains(&format!("reading the cursor key {CURSOR_KEY_PARAMETER}")),
                "stderr names the parameter:\n{}",
                run.logs()
            );
        }
        other => panic!("expected an init failure, got {other:?}\n{}", run.logs()),
    }
}
