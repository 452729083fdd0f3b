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
//! One more test runs each function's benchmark workload (the events
//! `lambda-bench` measures) against a fake AWS account that is empty and
//! accepts every write, and checks that each is handled in full.
//!
//! The mock Runtime API, the fake AWS, the environment and the events are in
//! the crate's `lambda_mock` module, shared with `lambda-bench`.

use e2e_tests::lambda_mock::{
    aws_operation, closed_port, envelope_without_time, fake_aws, function_env, lambda_dir,
    lambda_env, package_in, report, request_id, rest_request, runtime_api, skipped, u16_at, u32_at,
    u64_at, unpack, unzip_entry, workload, zip_entries, Answers, Invocations, KillOnDrop, Outcome,
    Recorded, AGENT_ENV, API_ENV, API_PARAMETERS, AWS, BINARIES, CURSOR_KEY_PARAMETER, MASTER_ENV,
    NEXT, REPORT_ENV, RUNTIME, SKIPPED_WITHOUT_TIME,
};
use serde_json::{json, Value};
use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

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

fn package(binary: &str) -> PathBuf {
    package_in(&lambda_dir(), binary)
}

/// The six packages, or `None` (after a notice) when they are absent and
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
// Running a packaged bootstrap for one event.

struct Invocation {
    outcome: Outcome,
    /// Every request to the Runtime API and to the fake AWS, in arrival order.
    requests: Vec<Recorded>,
    /// The calls the fake AWS refused.
    refused: Vec<String>,
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
            .map(aws_operation)
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
    /// The SSM parameters and the answers of the fake AWS; `None`:
    /// AWS_ENDPOINT_URL is a closed port.
    aws: Option<(&'a [(&'a str, &'a str)], Answers)>,
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
    let runtime = runtime_api(tx.clone(), Invocations::one(f.binary, &f.event));
    let aws = f
        .aws
        .map(|(params, answers)| fake_aws(tx.clone(), params, answers));
    drop(tx);
    let endpoint = match &aws {
        Some(fake) => fake.endpoint(),
        None => format!("http://127.0.0.1:{}", closed_port()),
    };

    let stdout_path = dir.path().join("stdout");
    let stderr_path = dir.path().join("stderr");
    let mut cmd = Command::new(&bootstrap);
    lambda_env(
        &mut cmd,
        f.binary,
        runtime.addr,
        &endpoint,
        dir.path(),
        f.env,
    )
    .current_dir(dir.path())
    .stdin(Stdio::null())
    .stdout(File::create(&stdout_path).unwrap())
    .stderr(File::create(&stderr_path).unwrap());
    let mut child = KillOnDrop(cmd.spawn().unwrap());

    let mut requests = Vec::new();
    let started = Instant::now();
    let outcome = loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(req) => {
                let done = outcome_of(&req);
                requests.push(req);
                if let Some(outcome) = done {
                    break outcome;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => unreachable!("the servers keep a sender"),
        }
        if let Some(status) = child.0.try_wait().unwrap() {
            // Whatever it sent just before exiting: a report that arrived
            // after the last receive (the init error of a process that then
            // exits at once) is still its outcome.
            thread::sleep(Duration::from_millis(100));
            let start = requests.len();
            requests.extend(rx.try_iter());
            let late = requests[start..].iter().find_map(outcome_of);
            break late.unwrap_or(Outcome::Exited(status.code()));
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
    let refused = aws.as_ref().map(|a| a.refused()).unwrap_or_default();
    drop(aws);
    Some(Invocation {
        outcome,
        requests,
        refused,
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    })
}

/// The outcome `req` reports, if it is a report; one for any request but
/// the one queued is a failure.
fn outcome_of(req: &Recorded) -> Option<Outcome> {
    let (id, outcome) = report(req)?;
    if let Some(id) = id {
        assert_eq!(
            id,
            request_id(0),
            "report for an unknown request id: {}",
            req.path
        );
    }
    Some(outcome)
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
        aws: Some((&[], Answers::SsmOnly)),
    }) else {
        return;
    };
    let Outcome::Response(body) = &run.outcome else {
        panic!("expected a response, got {:?}\n{}", run.outcome, run.logs());
    };
    assert_eq!(body, &skipped(SKIPPED_WITHOUT_TIME), "{}", run.logs());
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
        aws: Some((&[], Answers::SsmOnly)),
    }) else {
        return;
    };
    let Outcome::Response(body) = &run.outcome else {
        panic!("expected a response, got {:?}\n{}", run.outcome, run.logs());
    };
    assert_eq!(body, &skipped(SKIPPED_WITHOUT_TIME), "{}", run.logs());
    assert_eq!(run.aws_calls_during_invocation(), Vec::<String>::new());
}

#[test]
fn daily_report_reports_a_bad_date_as_an_invocation_error() {
    let Some(run) = invoke(&Function {
        binary: "daily-report",
        env: REPORT_ENV,
        event: json!({"date": "not-a-date"}),
        aws: Some((&[], Answers::SsmOnly)),
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
        aws: Some((&[], Answers::SsmOnly)),
    }) else {
        return;
    };
    let Outcome::Response(body) = &run.outcome else {
        panic!("expected a response, got {:?}\n{}", run.outcome, run.logs());
    };
    assert_eq!(body, &skipped(SKIPPED_WITHOUT_TIME), "{}", run.logs());
    assert_eq!(run.aws_calls_during_invocation(), Vec::<String>::new());
}

/// gzip + base64 of a CONTROL_MESSAGE, as CloudWatch Logs sends it when a
/// subscription is created to check that the destination answers.
const CONTROL_MESSAGE_DATA: &str = "H4sIAAAAAAACAzWOXQuCMBSG/8rYtYRd9OVdiHmzElLoIiSWHnU0N9lmEuJ/b0s7dw/vy3ueEbegNa0h+3SAAxwml+yakMc5StNjHGEPy0GAcgmXfTlQUzRE1toGXNaxkn1ns5lSo4C2M+r+qQvFOsOkODFuQGkc3PNfL3qDMA5HzMq5bpjVMLS1Y+vdYbP1/b3vzvvrOYEbQYseWvQCFDZQvJioUQOUmwbJCpV2iQnqPiNC22dJUdWLwvEKT/n0BZQED7HzAAAA";

#[test]
fn stream_error_logs_answers_a_control_message_by_doing_nothing() {
    let Some(run) = invoke(&Function {
        binary: "stream-error-logs",
        env: AGENT_ENV,
        event: json!({"awslogs": {"data": CONTROL_MESSAGE_DATA}}),
        aws: Some((&[], Answers::SsmOnly)),
    }) else {
        return;
    };
    let Outcome::Response(body) = &run.outcome else {
        panic!("expected a response, got {:?}\n{}", run.outcome, run.logs());
    };
    assert_eq!(
        body,
        &json!({"outcome": "control_message"}),
        "{}",
        run.logs()
    );
    assert_eq!(run.aws_calls_during_invocation(), Vec::<String>::new());
}

#[test]
fn stream_error_logs_skips_a_payload_that_is_not_gzip_without_aws() {
    let Some(run) = invoke(&Function {
        binary: "stream-error-logs",
        env: AGENT_ENV,
        // base64 of "not gzip at all"
        event: json!({"awslogs": {"data": "bm90IGd6aXAgYXQgYWxs"}}),
        aws: Some((&[], Answers::SsmOnly)),
    }) else {
        return;
    };
    let Outcome::Response(body) = &run.outcome else {
        panic!("expected a response, got {:?}\n{}", run.outcome, run.logs());
    };
    assert_eq!(body["outcome"], "skipped", "{}", run.logs());
    assert!(
        body["reason"].as_str().unwrap().contains("not gzip"),
        "{body}"
    );
    assert_eq!(run.aws_calls_during_invocation(), Vec::<String>::new());
}

#[test]
fn api_answers_an_unknown_route_with_a_404_without_aws() {
    let Some(run) = invoke(&Function {
        binary: "api",
        env: API_ENV,
        event: rest_request("GET", "/nope"),
        aws: Some((API_PARAMETERS, Answers::SsmOnly)),
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

/// Without its cursor key the api cannot start. It reports one line naming
/// the parameter and the cause to the Runtime API's /init/error, never takes
/// an event, and exits non-zero.
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
    assert_one_line_init_error(
        &run,
        &format!("reading the cursor key {CURSOR_KEY_PARAMETER}: "),
    );
}

/// The parameter is missing (the fake account refuses it as SSM does):
/// the init error names it and SSM's own reason.
#[test]
fn api_fails_its_init_naming_a_missing_cursor_key_parameter() {
    let Some(run) = invoke(&Function {
        binary: "api",
        env: API_ENV,
        event: rest_request("GET", "/events"),
        aws: Some((&[], Answers::EmptyAccount)),
    }) else {
        return;
    };
    let message = assert_one_line_init_error(
        &run,
        &format!("reading the cursor key {CURSOR_KEY_PARAMETER}: "),
    );
    assert!(message.contains("ParameterNotFound"), "{message}");
}

/// A missing variable is an init error too, naming the variable.
#[test]
fn a_missing_variable_is_reported_as_an_init_error() {
    let Some(run) = invoke(&Function {
        binary: "handle-monitoring-events",
        env: &[],
        event: envelope_without_time("aws.guardduty", "GuardDuty Finding"),
        aws: None,
    }) else {
        return;
    };
    assert_one_line_init_error(&run, "environment variable TABLE_NAME is required");
}

/// notify reads its channels before any AWS call: without them, an init
/// error naming the variable.
#[test]
fn notify_without_its_channels_is_an_init_error() {
    let Some(run) = invoke(&Function {
        binary: "notify",
        env: &[("DELIVERIES_TABLE", "monitoring-test-deliveries")],
        event: workload("notify").unwrap().event,
        aws: None,
    }) else {
        return;
    };
    assert_one_line_init_error(&run, "environment variable ALERT_CHANNELS is required");
}

/// The init error's message: it starts with `prefix`, is one short line, and
/// the function took no event and exited non-zero.
fn assert_one_line_init_error(run: &Invocation, prefix: &str) -> String {
    assert!(
        !run.fetched_the_event(),
        "init failed, so no event: {}",
        run.logs()
    );
    let Outcome::InitError(body) = &run.outcome else {
        panic!(
            "expected /init/error, got {:?}\n{}",
            run.outcome,
            run.logs()
        );
    };
    assert_eq!(body["errorType"], "Runtime.InitError", "{body}");
    let message = body["errorMessage"].as_str().unwrap_or_default().to_owned();
    assert!(
        message.starts_with(prefix),
        "{message:?} should start with {prefix:?}"
    );
    assert!(
        !message.contains('\n') && message.len() < 400,
        "one short line: {message:?}"
    );
    assert!(
        run.stderr.len() < 1024,
        "no Debug dump on stderr ({} bytes):\n{}",
        run.stderr.len(),
        run.stderr
    );
    message
}

/// A valid envelope that the store refuses (AccessDenied on every DynamoDB
/// call) is not skipped: the invocation fails, so Lambda retries it and then
/// dead-letters it.
#[test]
fn a_valid_envelope_the_store_refuses_fails_the_invocation() {
    for binary in ["handle-monitoring-events", "update-deployment"] {
        let w = workload(binary).unwrap();
        let Some(run) = invoke(&Function {
            binary,
            env: w.env,
            event: w.event.clone(),
            aws: Some((&[], Answers::SsmOnly)),
        }) else {
            return;
        };
        let Outcome::InvocationError(_, body) = &run.outcome else {
            panic!(
                "{binary}: expected an invocation error, got {:?}\n{}",
                run.outcome,
                run.logs()
            );
        };
        let message = body["errorMessage"].as_str().unwrap_or_default();
        assert!(message.contains("AccessDenied"), "{binary}: {body}");
    }
}

/// The events lambda-bench measures are handled in full (a response, no
/// skip, no error, no refused AWS call) against an empty account.
#[test]
fn each_function_handles_its_benchmark_workload_against_an_empty_account() {
    for binary in BINARIES {
        let w = workload(binary).unwrap();
        assert_eq!(w.env, function_env(binary));
        let Some(run) = invoke(&Function {
            binary,
            env: w.env,
            event: w.event.clone(),
            aws: Some((w.parameters, Answers::EmptyAccount)),
        }) else {
            return;
        };
        let Outcome::Response(body) = &run.outcome else {
            panic!(
                "{binary}: expected a response, got {:?}\n{}",
                run.outcome,
                run.logs()
            );
        };
        if let Err(e) = (w.check)(body) {
            panic!("{binary}: {e}\n{}", run.logs());
        }
        assert_eq!(
            run.refused,
            Vec::<String>::new(),
            "{binary}: refused AWS calls\n{}",
            run.logs()
        );
        println!(
            "{binary}: {body} after {:?} ({})",
            run.aws_calls_during_invocation(),
            w.calls
        );
    }
}
