//! `monitoring cost`: the itemised monthly estimate of `domain::cost`, over
//! the price table compiled in from `prices/aws-us-east-1.toml`.

use domain::cost::{estimate, Estimate, Mode, PriceTable, Usage};
use std::process::ExitCode;

/// The price table: its date and region are printed with every estimate.
pub const PRICE_TABLE: &str = include_str!("../../../prices/aws-us-east-1.toml");

pub fn price_table() -> Result<PriceTable, String> {
    toml::from_str(PRICE_TABLE).map_err(|e| format!("prices/aws-us-east-1.toml: {e}"))
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ModeArg {
    Scheduled,
    Realtime,
    Both,
}

#[derive(clap::Args)]
pub struct Args {
    /// Monitored accounts (one agent each).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    accounts: u32,
    /// Log data written per day in each account (GB).
    #[arg(long, value_parser = parse_gb)]
    log_gb_per_day: f64,
    /// Log lines that look like errors per day in each account.
    #[arg(long)]
    error_lines_per_day: u64,
    /// Which agent path: the scheduled Logs Insights queries, the real-time
    /// subscription, or both.
    #[arg(long, value_enum, default_value = "scheduled")]
    mode: ModeArg,
    /// Minutes between two scheduled runs (and heartbeats).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1440))]
    schedule_minutes: u32,
    /// Print the estimate as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_gb(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !v.is_finite() || !(0.0..=1_000_000.0).contains(&v) {
        return Err(format!("{s} is not between 0 and 1000000"));
    }
    Ok(v)
}

pub async fn run(args: Args) -> ExitCode {
    let usage = Usage {
        accounts: args.accounts,
        log_gb_per_day: args.log_gb_per_day,
        error_lines_per_day: args.error_lines_per_day,
        mode: match args.mode {
            ModeArg::Scheduled => Mode::Scheduled,
            ModeArg::Realtime => Mode::Realtime,
            ModeArg::Both => Mode::Both,
        },
        schedule_minutes: args.schedule_minutes,
    };
    if let Err(e) = domain::cost::validate(&usage) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let table = match price_table() {
        Ok(t) => t,
        Err(e) => return super::failed(e),
    };
    let e = estimate(&usage, &table);
    if args.json {
        println!("{}", json(&usage, &table, &e));
    } else {
        print!("{}", render(&usage, &table, &e));
    }
    ExitCode::SUCCESS
}

fn json(u: &Usage, t: &PriceTable, e: &Estimate) -> serde_json::Value {
    serde_json::json!({
        "accounts": u.accounts,
        "log_gb_per_day": u.log_gb_per_day,
        "error_lines_per_day": u.error_lines_per_day,
        "mode": u.mode.as_str(),
        "schedule_minutes": u.schedule_minutes,
        "region": t.region,
        "prices_date": t.date,
        "currency": t.currency,
        "items": e.items.iter().map(|i| serde_json::json!({
            "item": i.name,
            "quantity": i.quantity,
            "unit": i.unit,
            "unit_price": i.unit_price,
            "monthly": i.monthly,
        })).collect::<Vec<_>>(),
        "total": e.total,
    })
}

/// A number with enough decimals for its size, no trailing zeros.
fn qty(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let s = if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else if v >= 0.001 {
        format!("{v:.6}")
    } else {
        format!("{v:.10}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

pub fn render(u: &Usage, t: &PriceTable, e: &Estimate) -> String {
    let mut out = format!(
        "Monthly estimate, {} mode: {} account(s), each {} GB of logs and {} error lines a day, schedule every {} min\nPrices: {} list prices of {} ({}), 30-day month, no free tier\n\n",
        u.mode.as_str(),
        u.accounts,
        qty(u.log_gb_per_day),
        u.error_lines_per_day,
        u.schedule_minutes,
        t.region,
        t.date,
        t.currency,
    );
    out.push_str(&format!(
        "{:<30} {:>14} {:<17} {:>12} {:>11}\n",
        "item", "quantity", "unit", "unit price", "monthly"
    ));
    for i in &e.items {
        out.push_str(&format!(
            "{:<30} {:>14} {:<17} {:>12} {:>11.2}\n",
            i.name,
            qty(i.quantity),
            i.unit,
            qty(i.unit_price),
            i.monthly
        ));
    }
    out.push_str(&format!(
        "{:<30} {:>14} {:<17} {:>12} {:>11.2}\n",
        "total", "", "", "", e.total
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_price_table_parses_with_its_date_and_region() {
        let t = price_table().unwrap();
        assert_eq!(t.region, "us-east-1");
        assert!(chrono::NaiveDate::parse_from_str(&t.date, "%Y-%m-%d").is_ok());
        assert!(t.prices.lambda_per_million_requests > 0.0);
    }
}
