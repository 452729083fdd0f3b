//! `monitoring local`: wires the master, the agent, the daily report and the
//! REST API to one data dir and serves until SIGINT/SIGTERM.

use super::agent::{spawn_agent_loop, LocalAgent};
use super::report::spawn_midnight_reports;
use super::{
    guarded_app, rule_for, schedule_minutes_of, shutdown_signal, AgentInbox, BoxError, DataDir,
    LocalOptions, MasterPorts, MasterSubscriber,
};
use adapters::bus::{BusConfigPusher, LocalBus, Subscriber};
use adapters::files::FileLogSource;
use adapters::outbox::OutboxMailer;
use adapters::sqlite::SqliteStore;
use chrono::Duration as ChronoDuration;
use domain::cursor::CursorCodec;
use domain::envelope::Envelope;
use domain::inbound::Target;
use domain::model::{AgentConfig, AgentId};
use domain::ports::{Clock, ConfigPusher, SystemClock};
use domain::usecases::agent::AgentSettings;
use domain::usecases::api::Api;
use domain::window::WindowPolicy;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// Runs `monitoring local` until SIGINT/SIGTERM.
pub async fn run_local(opts: LocalOptions) -> Result<(), BoxError> {
    let token = super::access::listen_token(opts.listen, opts.token.as_deref())?;
    if !opts.logs.is_dir() {
        return Err(format!("--logs {} is not a folder", opts.logs.display()).into());
    }
    let dir = DataDir(opts.data_dir.clone());
    let store = dir.open_store()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let bus = LocalBus::new();
    let pusher: Arc<dyn ConfigPusher> = Arc::new(BusConfigPusher {
        bus: bus.clone(),
        clock: clock.clone(),
    });
    let inbox = subscribe_master_and_agent(&bus, &store, &pusher, &clock);
    let agent = Arc::new(local_agent(&opts, &dir, &store, &bus)?);
    let api = Arc::new(Api {
        events: store.clone(),
        agents: store.clone(),
        pusher,
        clock: clock.clone(),
        cursors: CursorCodec::new(dir.cursor_key()?),
    });
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener.local_addr()?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let agent_task = spawn_agent_loop(agent.clone(), inbox, stop_rx.clone());
    let notifier_task = super::alerts::spawn_notifier(
        store.clone(),
        opts.alerts.clone(),
        dir.outbox(),
        stop_rx.clone(),
    )?;
    let report_task = spawn_midnight_reports(
        store.clone(),
        OutboxMailer::new(dir.outbox()),
        opts.console_url.clone(),
        stop_rx.clone(),
    );
    log_start(&opts, addr, &agent.settings.id);
    let mut stop = stop_rx.clone();
    if let Some(t) = &token {
        super::access::print_console_link(addr, t);
    }
    let app = guarded_app(api, token.as_deref().map(crate::console_ui::Token::new));
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop.changed().await;
    });
    let server_task = tokio::spawn(async move { server.await });
    shutdown_signal().await;
    tracing::info!("stopping: finishing the current step");
    let _ = stop_tx.send(true);
    agent_task.await?;
    report_task.await?;
    notifier_task.await?;
    server_task.await??;
    tracing::info!("stopped");
    Ok(())
}

/// What the server says once it listens: where the API, console, data and
/// logs are, and the alert channels.
fn log_start(opts: &LocalOptions, addr: std::net::SocketAddr, agent: &AgentId) {
    if !opts.alerts.channels.is_empty() {
        let names: Vec<&str> = opts
            .alerts
            .channels
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        tracing::info!(channels = %names.join(", "), "alerts on");
    }
    tracing::info!(
        "monitoring local: API on http://{addr}, console on http://{addr}/console/, data in {}, logs from {}, agent {} every {}{}",
        opts.data_dir.display(),
        opts.logs.display(),
        agent,
        humantime::format_duration(opts.interval),
        if opts.follow {
            ", following the files"
        } else {
            ""
        }
    );
}

/// HandleMonitoringEvents and UpdateDeployment on their rules; the agent's
/// config-update rule feeds the returned inbox.
fn subscribe_master_and_agent(
    bus: &Arc<LocalBus>,
    store: &Arc<SqliteStore>,
    pusher: &Arc<dyn ConfigPusher>,
    clock: &Arc<dyn Clock>,
) -> mpsc::UnboundedReceiver<Envelope> {
    let ports = Arc::new(MasterPorts {
        store: store.clone(),
        pusher: pusher.clone(),
        clock: clock.clone(),
    });
    let master: Arc<dyn Subscriber> = Arc::new(MasterSubscriber(ports));
    bus.subscribe(rule_for(Target::HandleMonitoringEvents), master.clone());
    bus.subscribe(rule_for(Target::UpdateDeployment), master);
    let (inbox_tx, inbox_rx) = mpsc::unbounded_channel();
    bus.subscribe(rule_for(Target::Agent), Arc::new(AgentInbox(inbox_tx)));
    inbox_rx
}

/// The agent of `--account`/`--region`, reading every file under `--logs`.
fn local_agent(
    opts: &LocalOptions,
    dir: &DataDir,
    store: &Arc<SqliteStore>,
    bus: &Arc<LocalBus>,
) -> Result<LocalAgent, BoxError> {
    let id = AgentId::new(opts.account.clone(), opts.region.clone());
    let initial_config = AgentConfig {
        schedule_minutes: schedule_minutes_of(opts.interval),
        // Every file under --logs; prefixes are paths relative to it.
        log_group_prefixes: vec![String::new()],
        ..AgentConfig::default()
    };
    Ok(LocalAgent {
        settings: AgentSettings {
            id: id.clone(),
            name: "local".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            policy: WindowPolicy {
                // Files are read by offset: the window only names the read.
                latency: ChronoDuration::zero(),
                initial_lookback: ChronoDuration::from_std(opts.interval)
                    .unwrap_or(ChronoDuration::minutes(1)),
                max_window: ChronoDuration::days(1),
                max_catch_up: ChronoDuration::days(3650),
            },
            initial_config,
        },
        source: FileLogSource::open(&opts.logs, dir.file_offsets())?,
        bus: bus.clone(),
        state: store.agent_state(&id),
        interval: opts.interval,
        follow: opts.follow,
    })
}
