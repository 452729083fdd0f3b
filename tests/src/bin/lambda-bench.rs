//! lambda-bench: three figures of each packaged Lambda bootstrap
//! (`ops/build` → target/lambda/<binary>/bootstrap.zip) and of `hello-lambda`,
//! the smallest `lambda_runtime` function, as their floor:
//!
//! * cold start: from the exec of `bootstrap` until its first report (here
//!   always a response) reaches the mock Runtime API, one invocation queued;
//!   median, min and max of `--runs` runs (target ≤ 10 ms);
//! * instructions to the first response: the same cold start under
//!   `valgrind --tool=callgrind`, stopped (SIGTERM) as soon as the response
//!   has arrived (the Runtime API leaves it unanswered, so nothing runs in
//!   between); Ir of the dump's `summary:` line;
//! * peak RSS over `--invocations` invocations served one after the other:
//!   VmHWM of /proc/<pid>/status once the last one is answered and the
//!   function is back waiting for the next (target ≤ 32 MB, MiB as Lambda's
//!   "Max Memory Used").
//!
//! Each function handles its `lambda_mock::workload` event in full (a
//! response that the workload's check accepts, never a skip or an error)
//! against a fake AWS endpoint on loopback that answers as an empty account
//! whose writes all succeed (`Answers::EmptyAccount`): init does what it
//! does in Lambda (SDK config, the api's SSM GetParameter of its cursor key,
//! the DescribeTable / GetParameter warm-up calls, answered), only without
//! TLS or network latency. Every invocation is checked; one that is not
//! handled, or an AWS call the fake refuses, stops the bench.
//!
//! Usage (from the workspace, after ops/build):
//!
//! ```sh
//! cargo run --release -p e2e-tests --bin lambda-bench -- [LAMBDA_DIR] [--runs 20] [--invocations 1000]
//!     [--no-callgrind] [--callgrind-dir DIR] [--callgrind-stop sigterm|exit]
//!     [--floor PATH | --no-floor] [--only BINARY]... [--env KEY=VALUE]...
//! ```
//!
//! LAMBDA_DIR defaults to target/lambda; a `<binary>/bootstrap` there is used
//! as is, else `bootstrap.zip` is unpacked (python3). `hello-lambda` is built
//! with `cargo build --release --features hello-lambda` unless `--floor`
//! names it. `--env` adds a variable to every function's environment (an
//! experiment, e.g. `SSL_CERT_FILE`). stdout gets one TAB-separated row per figure:
//! `figure<TAB>value<TAB>target<TAB>pass|fail|report`; progress goes to
//! stderr. Exit status: 0 when every target is met, 1 when one is missed, 2
//! when a figure could not be measured.

use e2e_tests::lambda_mock::{
    fake_aws, lambda_dir, lambda_env, package_in, report, request_id, runtime_api, unpack,
    workload, AfterLast, Answers, FakeAws, HttpServer, Invocations, KillOnDrop, Outcome, Recorded,
    BINARIES, NEXT, RUNTIME,
};
use serde_json::{json, Value};
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const COLD_START_TARGET_MS: f64 = 10.0;
const PEAK_RSS_TARGET_MB: f64 = 32.0;
const COLD_TIMEOUT: Duration = Duration::from_secs(60);
/// Valgrind runs the binary 20-100 times slower.
const CALLGRIND_TIMEOUT: Duration = Duration::from_secs(900);
const RSS_TIMEOUT: Duration = Duration::from_secs(900);

const USAGE: &str = "usage: lambda-bench [LAMBDA_DIR] [--runs N] [--invocations N] [--no-callgrind] \
[--callgrind-dir DIR] [--callgrind-stop sigterm|exit] [--floor PATH | --no-floor] [--only BINARY]... \
[--env KEY=VALUE]...";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Leave the first response unanswered, then SIGTERM.
    Sigterm,
    /// Answer it; the next invocation makes the runtime exit (AfterLast::Exit).
    Exit,
}

struct Args {
    lambda_dir: PathBuf,
    runs: usize,
    invocations: usize,
    callgrind: bool,
    callgrind_dir: Option<PathBuf>,
    callgrind_stop: Stop,
    /// `None`: no floor; `Some(None)`: build hello-lambda.
    floor: Option<Option<PathBuf>>,
    only: Vec<String>,
    /// Extra variables for every function.
    env: Vec<(String, String)>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        lambda_dir: lambda_dir(),
        runs: 20,
        invocations: 1000,
        callgrind: true,
        callgrind_dir: None,
        callgrind_stop: Stop::Sigterm,
        floor: Some(None),
        only: Vec::new(),
        env: Vec::new(),
    };
    let mut it = std::env::args_os().skip(1);
    let mut positional = false;
    while let Some(arg) = it.next() {
        let arg = arg.to_string_lossy().into_owned();
        let mut value = |name: &str| {
            it.next()
                .map(|v| v.to_string_lossy().into_owned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let count = |name: &str, v: String| match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{name} must be a positive number, not {v:?}")),
        };
        match arg.as_str() {
            "--runs" => args.runs = count("--runs", value("--runs")?)?,
            "--invocations" => {
                args.invocations = count("--invocations", value("--invocations")?)?;
            }
            "--no-callgrind" => args.callgrind = false,
            "--callgrind-dir" => args.callgrind_dir = Some(value("--callgrind-dir")?.into()),
            "--callgrind-stop" => {
                args.callgrind_stop = match value("--callgrind-stop")?.as_str() {
                    "sigterm" => Stop::Sigterm,
                    "exit" => Stop::Exit,
                    other => return Err(format!("--callgrind-stop: sigterm or exit, not {other}")),
                }
            }
            "--floor" => args.floor = Some(Some(value("--floor")?.into())),
            "--no-floor" => args.floor = None,
            "--only" => {
                let b = value("--only")?;
                if !BINARIES.contains(&b.as_str()) && b != "hello-lambda" {
                    return Err(format!("--only: unknown binary {b}"));
                }
                args.only.push(b);
            }
            "--env" => {
                let kv = value("--env")?;
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| format!("--env: KEY=VALUE, not {kv:?}"))?;
                args.env.push((k.to_owned(), v.to_owned()));
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            a if a.starts_with('-') => return Err(format!("unknown option {a}")),
            a if !positional => {
                args.lambda_dir = a.into();
                positional = true;
            }
            a => return Err(format!("unexpected argument {a}")),
        }
    }
    Ok(args)
}

// ---------------------------------------------------------------------------
// What is measured.

/// `Ok` when a response is the handled event's.
type Check = Box<dyn Fn(&Value) -> Result<(), String>>;

struct Target {
    /// As shown in the rows.
    name: String,
    /// AWS_LAMBDA_FUNCTION_NAME.
    function: String,
    bootstrap: PathBuf,
    env: Vec<(String, String)>,
    parameters: &'static [(&'static str, &'static str)],
    event: Value,
    check: Check,
    /// The floor: its figures are reported, not held to a target.
    floor: bool,
    /// Holds the unpacked bootstrap, stdout/stderr and callgrind files.
    work: tempfile::TempDir,
}

fn owned(env: &[(&str, &str)]) -> Vec<(String, String)> {
    env.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn function_target(binary: &str, lambda_dir: &Path) -> Result<Target, String> {
    let w = workload(binary).ok_or_else(|| format!("no workload for {binary}"))?;
    let work = tempfile::Builder::new()
        .prefix(&format!("lambda-bench-{binary}-"))
        .tempdir()
        .map_err(|e| e.to_string())?;
    let unpacked = lambda_dir.join(binary).join("bootstrap");
    let zip = package_in(lambda_dir, binary);
    let bootstrap = if unpacked.is_file() {
        unpacked
    } else if zip.is_file() {
        unpack(&zip, work.path())
    } else {
        return Err(format!(
            "no {} nor {} (run ops/build first)",
            unpacked.display(),
            zip.display()
        ));
    };
    Ok(Target {
        name: binary.to_owned(),
        function: binary.to_owned(),
        bootstrap,
        env: owned(w.env),
        parameters: w.parameters,
        event: w.event,
        check: Box::new(w.check),
        floor: false,
        work,
    })
}

fn floor_target(path: &Path) -> Result<Target, String> {
    let event = json!({"hello": "world"});
    let expected = event.clone();
    Ok(Target {
        name: "hello-lambda floor".to_owned(),
        function: "hello-lambda".to_owned(),
        bootstrap: path.to_owned(),
        env: Vec::new(),
        parameters: &[],
        event,
        check: Box::new(move |v| {
            if *v == expected {
                Ok(())
            } else {
                Err(format!("expected the event back, got {v}"))
            }
        }),
        floor: true,
        work: tempfile::Builder::new()
            .prefix("lambda-bench-hello-")
            .tempdir()
            .map_err(|e| e.to_string())?,
    })
}

/// `cargo build --release -p e2e-tests --features hello-lambda --bin
/// hello-lambda` (a no-op when up to date), answering the executable.
fn build_hello_lambda() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    eprintln!("building hello-lambda (cargo build --release --features hello-lambda)");
    let out = Command::new(cargo)
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "-p",
            "e2e-tests",
            "--features",
            "hello-lambda",
            "--bin",
            "hello-lambda",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("building hello-lambda failed ({})", out.status));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "hello-lambda")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo built no hello-lambda executable".to_owned())
}

// ---------------------------------------------------------------------------
// One run of a bootstrap against the mock Runtime API and the fake AWS.

struct Session<'t> {
    target: &'t Target,
    rx: mpsc::Receiver<Recorded>,
    child: KillOnDrop,
    spawned: Instant,
    aws: FakeAws,
    _runtime: HttpServer,
    /// Reports accepted so far, and when the first and the last arrived.
    responses: usize,
    first_response: Option<Instant>,
    last_response: Option<Instant>,
    /// `next` polls so far.
    nexts: usize,
}

impl<'t> Session<'t> {
    /// Starts `wrapper... bootstrap` as Lambda would, the invocations queued.
    fn launch(
        target: &'t Target,
        queue: Invocations,
        wrapper: &[OsString],
    ) -> Result<Session<'t>, String> {
        let (tx, rx) = mpsc::channel();
        let runtime = runtime_api(tx.clone(), queue);
        let aws = fake_aws(tx, target.parameters, Answers::EmptyAccount);
        let work = target.work.path();
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(&target.bootstrap);
                c
            }
            None => Command::new(&target.bootstrap),
        };
        let file = |name: &str| File::create(work.join(name)).map_err(|e| e.to_string());
        let env: Vec<(&str, &str)> = target
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        lambda_env(
            &mut cmd,
            &target.function,
            runtime.addr,
            &aws.endpoint(),
            work,
            &env,
        )
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(file("stdout")?)
        .stderr(file("stderr")?);
        let spawned = Instant::now();
        let child = cmd
            .spawn()
            .map_err(|e| format!("{}: cannot start: {e}", target.name))?;
        Ok(Session {
            target,
            rx,
            child: KillOnDrop(child),
            spawned,
            aws,
            _runtime: runtime,
            responses: 0,
            first_response: None,
            last_response: None,
            nexts: 0,
        })
    }

    fn pid(&self) -> u32 {
        self.child.0.id()
    }

    fn logs(&self) -> String {
        let read = |name: &str| {
            let text =
                std::fs::read_to_string(self.target.work.path().join(name)).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(20).collect();
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        };
        format!(
            "--- stdout (end):\n{}\n--- stderr (end):\n{}",
            read("stdout"),
            read("stderr")
        )
    }

    /// Serves the function until `done`, checking every report: each must
    /// be the response to the next queued invocation, accepted by the
    /// target's check, with no AWS call refused.
    fn until(
        &mut self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&Self) -> bool,
    ) -> Result<(), String> {
        let target: &'t Target = self.target;
        let name = &target.name;
        while !done(self) {
            match self.rx.recv_timeout(Duration::from_millis(50)) {
                Ok(req) => self.take(&req)?,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    unreachable!("the servers keep a sender")
                }
            }
            let refused = self.aws.refused();
            if !refused.is_empty() {
                return Err(format!(
                    "{name}: the fake AWS refused {refused:?}\n{}",
                    self.logs()
                ));
            }
            if done(self) {
                break;
            }
            if let Some(status) = self.child.0.try_wait().map_err(|e| e.to_string())? {
                // Whatever it sent just before exiting.
                while let Ok(req) = self.rx.try_recv() {
                    self.take(&req)?;
                }
                if done(self) {
                    break;
                }
                return Err(format!(
                    "{name}: exited ({status}) after {} responses, waiting for {what}\n{}",
                    self.responses,
                    self.logs()
                ));
            }
            if self.spawned.elapsed() > timeout {
                return Err(format!(
                    "{name}: no {what} in {timeout:?} ({} responses, {} polls)\n{}",
                    self.responses,
                    self.nexts,
                    self.logs()
                ));
            }
        }
        Ok(())
    }

    fn take(&mut self, req: &Recorded) -> Result<(), String> {
        let target: &'t Target = self.target;
        let name = &target.name;
        if req.server == RUNTIME && req.method == "GET" && req.path == NEXT {
            self.nexts += 1;
            return Ok(());
        }
        let Some((id, outcome)) = report(req) else {
            return Ok(());
        };
        let expected = request_id(self.responses);
        let Outcome::Response(body) = outcome else {
            return Err(format!(
                "{name}: invocation {} ({}) not handled: {outcome:?}\n{}",
                self.responses + 1,
                id.unwrap_or_else(|| "init".into()),
                self.logs()
            ));
        };
        if id.as_deref() != Some(expected.as_str()) {
            return Err(format!(
                "{name}: response {} for request {id:?}, expected {expected}",
                self.responses + 1
            ));
        }
        (self.target.check)(&body).map_err(|e| {
            format!(
                "{name}: invocation {} not handled: {e}\n{}",
                self.responses + 1,
                self.logs()
            )
        })?;
        self.responses += 1;
        self.first_response.get_or_insert(req.at);
        self.last_response = Some(req.at);
        Ok(())
    }

    /// Waits for the process to end (after a signal or by itself).
    fn wait_exit(&mut self, timeout: Duration) -> Result<std::process::ExitStatus, String> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.0.try_wait().map_err(|e| e.to_string())? {
                return Ok(status);
            }
            if Instant::now() > until {
                return Err(format!(
                    "{}: still running after {timeout:?}",
                    self.target.name
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn queue(target: &Target, count: usize, after_last: AfterLast, hold_reports: bool) -> Invocations {
    Invocations {
        function: target.function.clone(),
        event: target.event.clone(),
        count,
        after_last,
        hold_reports,
    }
}

/// Milliseconds from the exec to the first response.
fn cold_start(target: &Target) -> Result<f64, String> {
    let mut s = Session::launch(target, queue(target, 1, AfterLast::Wait, false), &[])?;
    s.until("first response", COLD_TIMEOUT, |s| s.responses >= 1)?;
    let at = s.first_response.expect("one response");
    Ok(at.duration_since(s.spawned).as_secs_f64() * 1000.0)
}

/// Instructions (Ir) to the first response, under callgrind.
fn instructions(
    target: &Target,
    valgrind: &Path,
    out_dir: &Path,
    stop: Stop,
) -> Result<u64, String> {
    let out = out_dir.join(format!("callgrind.out.{}", target.function));
    let _ = std::fs::remove_file(&out);
    let wrapper: Vec<OsString> = vec![
        valgrind.into(),
        "--tool=callgrind".into(),
        format!("--callgrind-out-file={}", out.display()).into(),
    ];
    let q = match stop {
        Stop::Sigterm => queue(target, 1, AfterLast::Wait, true),
        Stop::Exit => queue(target, 1, AfterLast::Exit, false),
    };
    let mut s = Session::launch(target, q, &wrapper)?;
    s.until("first response", CALLGRIND_TIMEOUT, |s| s.responses >= 1)?;
    if stop == Stop::Sigterm {
        let killed = Command::new("kill")
            .args(["-TERM", &s.pid().to_string()])
            .status()
            .map_err(|e| format!("kill: {e}"))?;
        if !killed.success() {
            return Err(format!("{}: kill -TERM failed", target.name));
        }
    }
    let status = s.wait_exit(Duration::from_secs(120))?;
    let text = std::fs::read_to_string(&out).map_err(|e| {
        format!(
            "{}: no callgrind output {} after the process ended ({status}): {e}\n{}",
            target.name,
            out.display(),
            s.logs()
        )
    })?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("{}: no summary: line in {}", target.name, out.display()))
}

/// VmHWM (KiB) after `count` invocations, and how long they took.
fn peak_rss(target: &Target, count: usize) -> Result<(u64, Duration), String> {
    let mut s = Session::launch(target, queue(target, count, AfterLast::Wait, false), &[])?;
    s.until("first response", RSS_TIMEOUT, |s| s.responses >= 1)?;
    let first = s.first_response.expect("one response");
    // Every response, then the poll after the last: the function is idle.
    s.until(&format!("{count} responses"), RSS_TIMEOUT, |s| {
        s.responses >= count && s.nexts > count
    })?;
    let took = s.last_response.expect("responses").duration_since(first);
    if s.responses != count {
        return Err(format!(
            "{}: {} responses for {count} invocations",
            target.name, s.responses
        ));
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", s.pid()))
        .map_err(|e| format!("{}: /proc/{}/status: {e}", target.name, s.pid()))?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("{}: no VmHWM in /proc/{}/status", target.name, s.pid()))?;
    Ok((kib, took))
}

// ---------------------------------------------------------------------------
// Figures and rows.

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut groups = Vec::new();
    let mut end = digits.len();
    while end > 3 {
        groups.push(&digits[end - 3..end]);
        end -= 3;
    }
    groups.push(&digits[..end]);
    groups.reverse();
    groups.join(",")
}

struct Rows {
    missed: bool,
}

impl Rows {
    fn row(&mut self, figure: &str, value: &str, target: Option<(&str, bool)>) {
        let (goal, verdict) = match target {
            Some((goal, met)) => {
                self.missed |= !met;
                (goal, if met { "pass" } else { "fail" })
            }
            None => ("report", "report"),
        };
        println!("{figure}\t{value}\t{goal}\t{verdict}");
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn run(args: &Args) -> Result<bool, String> {
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    let valgrind = if args.callgrind {
        Some(find_in_path("valgrind").ok_or("valgrind is not on PATH (or pass --no-callgrind)")?)
    } else {
        None
    };
    let mut targets = Vec::new();
    if let (Some(floor), true) = (&args.floor, wanted("hello-lambda")) {
        let path = match floor {
            Some(p) => p.clone(),
            None => build_hello_lambda()?,
        };
        targets.push(floor_target(&path)?);
    }
    for binary in BINARIES.iter().filter(|b| wanted(b)) {
        targets.push(function_target(binary, &args.lambda_dir)?);
    }
    for t in &mut targets {
        t.env.extend(args.env.iter().cloned());
    }
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    eprintln!(
        "lambda-bench: {} targets from {}; {cpus} CPUs, load average {} (1/5/15 min)",
        targets.len(),
        args.lambda_dir.display(),
        load()
    );
    let mut rows = Rows { missed: false };

    // Cold start: one unmeasured run each (page cache, and a check that the
    // workload is handled), then the runs, round-robin so that noise from
    // the rest of the machine spreads over every target alike.
    for t in &targets {
        let ms = cold_start(t)?;
        eprintln!("cold start {}: warm-up run {ms:.2} ms", t.name);
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); targets.len()];
    for run in 0..args.runs {
        for (t, times) in targets.iter().zip(&mut times) {
            times.push(cold_start(t)?);
        }
        eprintln!("cold start: run {}/{} done", run + 1, args.runs);
    }
    for (t, times) in targets.iter().zip(&mut times) {
        times.sort_by(f64::total_cmp);
        let (med, min, max) = (median(times), times[0], times[times.len() - 1]);
        let figure = format!(
            "cold start {} (median of {}, min {min:.1} max {max:.1})",
            t.name,
            times.len()
        );
        let goal = format!("≤ {COLD_START_TARGET_MS} ms");
        let target = (!t.floor).then_some((goal.as_str(), med <= COLD_START_TARGET_MS));
        rows.row(&figure, &format!("{med:.1} ms"), target);
    }
    eprintln!("load average after the cold starts: {}", load());

    if let Some(valgrind) = &valgrind {
        for t in &targets {
            let dir = args
                .callgrind_dir
                .as_deref()
                .unwrap_or_else(|| t.work.path());
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let started = Instant::now();
            let ir = instructions(t, valgrind, dir, args.callgrind_stop)?;
            eprintln!(
                "instructions {}: {} Ir under callgrind in {:.1?}{}",
                t.name,
                thousands(ir),
                started.elapsed(),
                args.callgrind_dir
                    .as_ref()
                    .map_or(String::new(), |d| format!(
                        " ({})",
                        d.join(format!("callgrind.out.{}", t.function)).display()
                    ))
            );
            rows.row(
                &format!("instructions to first response {}", t.name),
                &thousands(ir),
                None,
            );
        }
    }

    for t in &targets {
        let (kib, took) = peak_rss(t, args.invocations)?;
        let mb = kib as f64 / 1024.0;
        eprintln!(
            "peak RSS {}: VmHWM {kib} kB; invocations 2-{} in {took:.2?} ({:.0} µs each)",
            t.name,
            args.invocations,
            took.as_secs_f64() * 1e6 / (args.invocations.max(2) - 1) as f64
        );
        let goal = format!("≤ {PEAK_RSS_TARGET_MB} MB");
        let target = (!t.floor).then_some((goal.as_str(), mb <= PEAK_RSS_TARGET_MB));
        rows.row(
            &format!("peak RSS {} over {} invocations", t.name, args.invocations),
            &format!("{mb:.1} MB"),
            target,
        );
    }
    eprintln!("load average at the end: {}", load());
    Ok(!rows.missed)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("lambda-bench: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("lambda-bench: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_formatted_for_the_table() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(27_671_836), "27,671,836");
        assert_eq!(median(&[1.0, 2.0, 9.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 4.0, 9.0]), 3.0);
    }
}
