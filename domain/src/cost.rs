//! The monthly cost estimate of `monitoring cost`: one pure function per
//! billed item, over a [`PriceTable`] (prices and the assumptions the
//! formulas need) and the user's [`Usage`]. The formulas are written down,
//! item by item, in `docs/cost.md`; each has its unit test below.
//!
//! A month is [`DAYS_PER_MONTH`] days. Free tiers are not counted: the
//! estimate is what the system adds to a bill whose free tier is already used.

use serde::Deserialize;

pub const DAYS_PER_MONTH: f64 = 30.0;
const MINUTES_PER_DAY: f64 = 1440.0;
const BYTES_PER_GB: f64 = 1e9;
const MB_PER_GB: f64 = 1024.0;

/// Which agent path is priced. `Both` prices each path as if it covered
/// every log group (an upper bound: the two paths share the records between
/// them, see docs/cost.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Scheduled,
    Realtime,
    Both,
}

impl Mode {
    pub fn scheduled(self) -> bool {
        matches!(self, Mode::Scheduled | Mode::Both)
    }
    pub fn realtime(self) -> bool {
        matches!(self, Mode::Realtime | Mode::Both)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Scheduled => "scheduled",
            Mode::Realtime => "realtime",
            Mode::Both => "both",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "scheduled" => Ok(Mode::Scheduled),
            "realtime" => Ok(Mode::Realtime),
            "both" => Ok(Mode::Both),
            _ => Err(format!("{s:?} is not a mode (scheduled, realtime or both)")),
        }
    }
}

/// What is estimated: every number per monitored account, per day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    pub accounts: u32,
    pub log_gb_per_day: f64,
    pub error_lines_per_day: u64,
    pub mode: Mode,
    pub schedule_minutes: u32,
}

/// The price table (`prices/*.toml`): where and when the prices were read,
/// the unit prices, and the assumptions about this system's own behaviour.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    pub region: String,
    pub date: String,
    pub currency: String,
    pub prices: Prices,
    pub assumptions: Assumptions,
}

/// Unit prices, in the table's currency.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    pub lambda_per_million_requests: f64,
    pub lambda_per_gb_second: f64,
    pub logs_insights_per_gb_scanned: f64,
    pub logs_subscription_delivery_per_gb: f64,
    pub logs_ingestion_per_gb: f64,
    pub eventbridge_per_million_custom_events: f64,
    pub eventbridge_per_million_cross_account_events: f64,
    pub scheduler_per_million_invocations: f64,
    pub dynamodb_per_million_write_units: f64,
    pub dynamodb_per_million_read_units: f64,
    pub ses_per_thousand_emails: f64,
}

/// How this system behaves, as the formulas need it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assumptions {
    /// Memory (MB) and billed seconds of one scheduled agent run.
    pub agent_memory_mb: f64,
    pub agent_run_seconds: f64,
    /// Memory (MB) and billed seconds of one stream-error-logs invocation.
    pub stream_memory_mb: f64,
    pub stream_invocation_seconds: f64,
    /// Log events CloudWatch Logs delivers per subscription invocation.
    pub stream_events_per_invocation: f64,
    /// Average size of one error log line (bytes), as delivered.
    pub error_line_bytes: f64,
    /// Distinct errors (fingerprints) per account active at any time: one
    /// scheduled run publishes at most this many occurrences.
    pub distinct_errors_per_account: f64,
    /// Memory (MB) and billed seconds of a master function invocation.
    pub master_memory_mb: f64,
    pub master_invocation_seconds: f64,
    /// DynamoDB units for one stored occurrence (transactional writes of the
    /// marker, the event and the day counter; the read of the event).
    pub write_units_per_occurrence: f64,
    pub read_units_per_occurrence: f64,
    /// DynamoDB units for one heartbeat (the agent item, read then written).
    pub write_units_per_heartbeat: f64,
    pub read_units_per_heartbeat: f64,
    /// Read units of one daily report per distinct error.
    pub report_read_units_per_error: f64,
    /// Report e-mails sent per day (recipients).
    pub report_emails_per_day: f64,
    /// Bytes this system writes to its own log groups per invocation
    /// (Lambda's START/END/REPORT lines and the function's own line).
    pub log_bytes_per_invocation: f64,
}

/// One line of the estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub name: &'static str,
    pub quantity: f64,
    pub unit: &'static str,
    /// Price of one `unit`.
    pub unit_price: f64,
    pub monthly: f64,
}

fn item(name: &'static str, quantity: f64, unit: &'static str, unit_price: f64) -> Item {
    Item {
        name,
        quantity,
        unit,
        unit_price,
        monthly: quantity * unit_price,
    }
}

/// The itemised estimate and its total.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub items: Vec<Item>,
    pub total: f64,
}

/// Counts per month that several items share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Volumes {
    /// Scheduled agent runs (each a Scheduler invocation and a Lambda request).
    pub agent_runs: f64,
    /// stream-error-logs invocations carrying log events.
    pub stream_invocations: f64,
    /// Heartbeat-only schedule runs of stream-error-logs (realtime alone).
    pub stream_heartbeats: f64,
    /// Occurrence envelopes published to the master.
    pub occurrences: f64,
    /// Heartbeats published to the master.
    pub heartbeats: f64,
}

impl Volumes {
    /// Agent lifecycle envelopes and occurrences that reach the master.
    pub fn envelopes(&self) -> f64 {
        self.occurrences + self.heartbeats
    }
    /// Lambda requests in the agent accounts.
    pub fn agent_requests(&self) -> f64 {
        self.agent_runs + self.stream_invocations + self.stream_heartbeats
    }
    /// Lambda requests in the master: one per envelope, one report a day.
    pub fn master_requests(&self) -> f64 {
        self.envelopes() + DAYS_PER_MONTH
    }
}

/// Scheduled runs per account per month.
pub fn runs_per_account(schedule_minutes: u32) -> f64 {
    DAYS_PER_MONTH * MINUTES_PER_DAY / f64::from(schedule_minutes.max(1))
}

pub fn volumes(u: &Usage, a: &Assumptions) -> Volumes {
    let accounts = f64::from(u.accounts);
    let runs = runs_per_account(u.schedule_minutes);
    let errors_per_month = u.error_lines_per_day as f64 * DAYS_PER_MONTH;
    let mut v = Volumes {
        agent_runs: 0.0,
        stream_invocations: 0.0,
        stream_heartbeats: 0.0,
        occurrences: 0.0,
        heartbeats: accounts * runs,
    };
    if u.mode.scheduled() {
        v.agent_runs = accounts * runs;
        // A run publishes one occurrence per distinct error it saw: no more
        // than the lines of its window, no more than the distinct errors.
        let lines_per_run = errors_per_month / runs;
        v.occurrences += accounts * runs * lines_per_run.min(a.distinct_errors_per_account);
    } else {
        // Realtime alone: the schedule invokes stream-error-logs to heartbeat.
        v.stream_heartbeats = accounts * runs;
    }
    if u.mode.realtime() {
        let per_invocation = a.stream_events_per_invocation.max(1.0);
        v.stream_invocations = accounts * (errors_per_month / per_invocation).ceil();
        // A batch holds at most `per_invocation` distinct errors.
        v.occurrences += v.stream_invocations * per_invocation.min(a.distinct_errors_per_account);
    }
    v
}

/// Lambda requests, agent and master.
pub fn lambda_requests(v: &Volumes, p: &Prices) -> Item {
    item(
        "Lambda requests",
        (v.agent_requests() + v.master_requests()) / 1e6,
        "million requests",
        p.lambda_per_million_requests,
    )
}

/// Lambda compute: requests x billed seconds x memory (GB).
pub fn lambda_gb_seconds(v: &Volumes, a: &Assumptions, p: &Prices) -> Item {
    let gb = |mb: f64| mb / MB_PER_GB;
    let agent = v.agent_runs * a.agent_run_seconds * gb(a.agent_memory_mb);
    let stream = (v.stream_invocations + v.stream_heartbeats)
        * a.stream_invocation_seconds
        * gb(a.stream_memory_mb);
    let master = v.master_requests() * a.master_invocation_seconds * gb(a.master_memory_mb);
    item(
        "Lambda compute",
        agent + stream + master,
        "GB-second",
        p.lambda_per_gb_second,
    )
}

/// Logs Insights: the scheduled agent scans every byte of its log groups once.
pub fn logs_insights(u: &Usage, p: &Prices) -> Item {
    let gb = if u.mode.scheduled() {
        f64::from(u.accounts) * u.log_gb_per_day * DAYS_PER_MONTH
    } else {
        0.0
    };
    item(
        "Logs Insights scanned",
        gb,
        "GB",
        p.logs_insights_per_gb_scanned,
    )
}

/// Subscription delivery: the error lines the filter pattern lets through.
pub fn subscription_delivery(u: &Usage, a: &Assumptions, p: &Prices) -> Item {
    let gb = if u.mode.realtime() {
        f64::from(u.accounts) * u.error_lines_per_day as f64 * DAYS_PER_MONTH * a.error_line_bytes
            / BYTES_PER_GB
    } else {
        0.0
    };
    item(
        "Subscription delivery",
        gb,
        "GB",
        p.logs_subscription_delivery_per_gb,
    )
}

/// EventBridge: every envelope is put on the agent's default bus (a custom
/// event) and forwarded to the master bus (a cross-account event); the
/// schedule's invocations are EventBridge Scheduler's.
pub fn eventbridge(v: &Volumes, p: &Prices) -> Item {
    let events = v.envelopes();
    let per_event =
        p.eventbridge_per_million_custom_events + p.eventbridge_per_million_cross_account_events;
    let scheduler = (v.agent_runs + v.stream_heartbeats) * p.scheduler_per_million_invocations;
    let quantity = (events + v.agent_runs + v.stream_heartbeats) / 1e6;
    // The price shown is the average per million billed events.
    let monthly = (events * per_event + scheduler) / 1e6;
    Item {
        name: "EventBridge events",
        quantity,
        unit: "million events",
        unit_price: if quantity > 0.0 {
            monthly / quantity
        } else {
            per_event
        },
        monthly,
    }
}

/// DynamoDB writes: each stored occurrence and heartbeat.
pub fn dynamodb_writes(v: &Volumes, a: &Assumptions, p: &Prices) -> Item {
    let units =
        v.occurrences * a.write_units_per_occurrence + v.heartbeats * a.write_units_per_heartbeat;
    item(
        "DynamoDB write units",
        units / 1e6,
        "million WRU",
        p.dynamodb_per_million_write_units,
    )
}

/// DynamoDB reads: occurrences, heartbeats and the daily report.
pub fn dynamodb_reads(u: &Usage, v: &Volumes, a: &Assumptions, p: &Prices) -> Item {
    let report = DAYS_PER_MONTH
        * f64::from(u.accounts)
        * a.distinct_errors_per_account
        * a.report_read_units_per_error;
    let units = v.occurrences * a.read_units_per_occurrence
        + v.heartbeats * a.read_units_per_heartbeat
        + report;
    item(
        "DynamoDB read units",
        units / 1e6,
        "million RRU",
        p.dynamodb_per_million_read_units,
    )
}

/// SES: the daily report, once a day to each recipient.
pub fn ses(a: &Assumptions, p: &Prices) -> Item {
    item(
        "SES e-mails",
        DAYS_PER_MONTH * a.report_emails_per_day / 1000.0,
        "thousand e-mails",
        p.ses_per_thousand_emails,
    )
}

/// The system's own CloudWatch Logs: every invocation's log lines.
pub fn own_logs(v: &Volumes, a: &Assumptions, p: &Prices) -> Item {
    let invocations = v.agent_requests() + v.master_requests();
    item(
        "Own CloudWatch Logs ingestion",
        invocations * a.log_bytes_per_invocation / BYTES_PER_GB,
        "GB",
        p.logs_ingestion_per_gb,
    )
}

/// Every item, in a fixed order, and their total.
pub fn estimate(u: &Usage, t: &PriceTable) -> Estimate {
    let (a, p) = (&t.assumptions, &t.prices);
    let v = volumes(u, a);
    let items = vec![
        lambda_requests(&v, p),
        lambda_gb_seconds(&v, a, p),
        logs_insights(u, p),
        subscription_delivery(u, a, p),
        eventbridge(&v, p),
        dynamodb_writes(&v, a, p),
        dynamodb_reads(u, &v, a, p),
        ses(a, p),
        own_logs(&v, a, p),
    ];
    let total = items.iter().map(|i| i.monthly).sum();
    Estimate { items, total }
}

/// Why a usage cannot be estimated.
pub fn validate(u: &Usage) -> Result<(), String> {
    if u.accounts == 0 {
        return Err("--accounts must be at least 1".into());
    }
    if !u.log_gb_per_day.is_finite() || u.log_gb_per_day < 0.0 {
        return Err("--log-gb-per-day must be a number of at least 0".into());
    }
    if !(1..=1440).contains(&u.schedule_minutes) {
        return Err("--schedule-minutes must be 1-1440".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Round prices, so each expected figure can be worked out by hand.
    fn table() -> PriceTable {
        PriceTable {
            region: "test".into(),
            date: "2000-01-01".into(),
            currency: "USD".into(),
            prices: Prices {
                lambda_per_million_requests: 0.2,
                lambda_per_gb_second: 0.00001,
                logs_insights_per_gb_scanned: 0.005,
                logs_subscription_delivery_per_gb: 0.1,
                logs_ingestion_per_gb: 0.5,
                eventbridge_per_million_custom_events: 1.0,
                eventbridge_per_million_cross_account_events: 1.0,
                scheduler_per_million_invocations: 1.0,
                dynamodb_per_million_write_units: 1.0,
                dynamodb_per_million_read_units: 0.25,
                ses_per_thousand_emails: 0.1,
            },
            assumptions: Assumptions {
                agent_memory_mb: 1024.0,
                agent_run_seconds: 2.0,
                stream_memory_mb: 512.0,
                stream_invocation_seconds: 0.1,
                stream_events_per_invocation: 1.0,
                error_line_bytes: 1000.0,
                distinct_errors_per_account: 10.0,
                master_memory_mb: 1024.0,
                master_invocation_seconds: 0.5,
                write_units_per_occurrence: 8.0,
                read_units_per_occurrence: 2.0,
                write_units_per_heartbeat: 1.0,
                read_units_per_heartbeat: 1.0,
                report_read_units_per_error: 2.0,
                report_emails_per_day: 2.0,
                log_bytes_per_invocation: 1000.0,
            },
        }
    }

    fn usage(mode: Mode) -> Usage {
        Usage {
            accounts: 2,
            log_gb_per_day: 10.0,
            error_lines_per_day: 1440,
            mode,
            schedule_minutes: 60,
        }
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{a} != {b}");
    }

    #[test]
    fn volumes_per_mode() {
        let a = table().assumptions;
        // 2 accounts x 720 runs; 60 lines a run, capped at 10 distinct errors.
        let s = volumes(&usage(Mode::Scheduled), &a);
        close(s.agent_runs, 1440.0);
        close(s.occurrences, 1440.0 * 10.0);
        close(s.heartbeats, 1440.0);
        close(s.stream_invocations, 0.0);
        // One invocation and one occurrence per error line; the schedule heartbeats.
        let r = volumes(&usage(Mode::Realtime), &a);
        close(r.agent_runs, 0.0);
        close(r.stream_invocations, 2.0 * 1440.0 * 30.0);
        close(r.occurrences, 2.0 * 1440.0 * 30.0);
        close(r.stream_heartbeats, 1440.0);
        let b = volumes(&usage(Mode::Both), &a);
        close(b.occurrences, s.occurrences + r.occurrences);
        close(b.stream_heartbeats, 0.0);
    }

    #[test]
    fn lambda_requests_count_agent_and_master_invocations() {
        let v = volumes(&usage(Mode::Scheduled), &table().assumptions);
        let i = lambda_requests(&v, &table().prices);
        // 1440 runs + (14400 occurrences + 1440 heartbeats + 30 reports).
        close(i.quantity, (1440.0 + 14400.0 + 1440.0 + 30.0) / 1e6);
        close(i.monthly, i.quantity * 0.2);
    }

    #[test]
    fn lambda_compute_is_requests_times_seconds_times_memory() {
        let t = table();
        let v = volumes(&usage(Mode::Realtime), &t.assumptions);
        let i = lambda_gb_seconds(&v, &t.assumptions, &t.prices);
        let stream = (86400.0 + 1440.0) * 0.1 * 0.5;
        let master = (86400.0 + 1440.0 + 30.0) * 0.5 * 1.0;
        close(i.quantity, stream + master);
        close(i.monthly, (stream + master) * 0.00001);
    }

    #[test]
    fn insights_scans_every_gb_once_only_when_scheduled() {
        let p = table().prices;
        let i = logs_insights(&usage(Mode::Scheduled), &p);
        close(i.quantity, 2.0 * 10.0 * 30.0);
        close(i.monthly, 600.0 * 0.005);
        close(logs_insights(&usage(Mode::Realtime), &p).monthly, 0.0);
    }

    #[test]
    fn subscription_delivers_error_lines_only_when_realtime() {
        let t = table();
        let i = subscription_delivery(&usage(Mode::Realtime), &t.assumptions, &t.prices);
        close(i.quantity, 2.0 * 1440.0 * 30.0 * 1000.0 / 1e9);
        close(i.monthly, i.quantity * 0.1);
        close(
            subscription_delivery(&usage(Mode::Scheduled), &t.assumptions, &t.prices).quantity,
            0.0,
        );
    }

    #[test]
    fn eventbridge_bills_put_forward_and_schedule() {
        let t = table();
        let v = volumes(&usage(Mode::Scheduled), &t.assumptions);
        let i = eventbridge(&v, &t.prices);
        // (14400 occurrences + 1440 heartbeats) x (put + forward) + 1440 schedule runs.
        close(i.monthly, ((14400.0 + 1440.0) * 2.0 + 1440.0) / 1e6);
        close(i.quantity, (14400.0 + 1440.0 + 1440.0) / 1e6);
    }

    #[test]
    fn dynamodb_writes_per_occurrence_and_heartbeat() {
        let t = table();
        let v = volumes(&usage(Mode::Scheduled), &t.assumptions);
        let i = dynamodb_writes(&v, &t.assumptions, &t.prices);
        close(i.quantity, (14400.0 * 8.0 + 1440.0) / 1e6);
        close(i.monthly, i.quantity * 1.0);
    }

    #[test]
    fn dynamodb_reads_include_the_daily_report() {
        let t = table();
        let u = usage(Mode::Scheduled);
        let v = volumes(&u, &t.assumptions);
        let i = dynamodb_reads(&u, &v, &t.assumptions, &t.prices);
        let report = 30.0 * 2.0 * 10.0 * 2.0;
        close(i.quantity, (14400.0 * 2.0 + 1440.0 + report) / 1e6);
        close(i.monthly, i.quantity * 0.25);
    }

    #[test]
    fn ses_sends_one_report_a_day_per_recipient() {
        let t = table();
        let i = ses(&t.assumptions, &t.prices);
        close(i.quantity, 60.0 / 1000.0);
        close(i.monthly, 0.006);
    }

    #[test]
    fn own_logs_are_bytes_per_invocation() {
        let t = table();
        let v = volumes(&usage(Mode::Scheduled), &t.assumptions);
        let i = own_logs(&v, &t.assumptions, &t.prices);
        let invocations = 1440.0 + 14400.0 + 1440.0 + 30.0;
        close(i.quantity, invocations * 1000.0 / 1e9);
        close(i.monthly, i.quantity * 0.5);
    }

    #[test]
    fn total_is_the_sum_of_the_items() {
        let e = estimate(&usage(Mode::Both), &table());
        assert_eq!(e.items.len(), 9);
        close(e.total, e.items.iter().map(|i| i.monthly).sum());
    }

    #[test]
    fn invalid_usage_is_named() {
        let mut u = usage(Mode::Both);
        u.accounts = 0;
        assert!(validate(&u).unwrap_err().contains("--accounts"));
        let mut u = usage(Mode::Both);
        u.log_gb_per_day = f64::NAN;
        assert!(validate(&u).unwrap_err().contains("--log-gb-per-day"));
        let mut u = usage(Mode::Both);
        u.schedule_minutes = 0;
        assert!(validate(&u).unwrap_err().contains("--schedule-minutes"));
        assert!("hourly".parse::<Mode>().is_err());
    }
}
