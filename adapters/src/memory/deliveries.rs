//! The in-memory `DeliveryLog`: the semantics the deliveries conformance
//! suite checks, for the notify use case's tests.

use crate::sync::lock;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::alerts::{StormPolicy, StormWindow, MAX_SUMMARY_TITLES};
use domain::ports::{Admission, DeliveryLog, HeldBack, PortError};
use std::collections::HashSet;
use std::sync::Mutex;

struct Delivery {
    change: String,
    channel: String,
    window: StormWindow,
    state: Admission,
    title: String,
}

#[derive(Default)]
pub struct MemoryDeliveryLog {
    deliveries: Mutex<Vec<Delivery>>,
    summarised: Mutex<HashSet<(String, DateTime<Utc>)>>,
}

impl MemoryDeliveryLog {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl DeliveryLog for MemoryDeliveryLog {
    async fn admit(
        &self,
        change_id: &str,
        channel: &str,
        now: DateTime<Utc>,
        policy: StormPolicy,
        title: &str,
    ) -> Result<Admission, PortError> {
        let mut all = lock(&self.deliveries);
        if let Some(d) = all
            .iter()
            .find(|d| d.change == change_id && d.channel == channel)
        {
            return Ok(d.state);
        }
        let window = all
            .iter()
            .filter(|d| d.channel == channel && d.window.end > now)
            .map(|d| d.window)
            .max_by_key(|w| w.start)
            .unwrap_or_else(|| policy.window_from(now));
        let admitted = all
            .iter()
            .filter(|d| d.channel == channel && d.window == window && d.state != Admission::Held)
            .count();
        let state = if policy.admits(u32::try_from(admitted).unwrap_or(u32::MAX)) {
            Admission::Send
        } else {
            Admission::Held
        };
        all.push(Delivery {
            change: change_id.to_owned(),
            channel: channel.to_owned(),
            window,
            state,
            title: title.to_owned(),
        });
        Ok(state)
    }

    async fn finished(&self, change_id: &str, channel: &str) -> Result<(), PortError> {
        for d in lock(&self.deliveries).iter_mut() {
            if d.change == change_id && d.channel == channel {
                d.state = Admission::Done;
            }
        }
        Ok(())
    }

    async fn held_back(&self, now: DateTime<Utc>) -> Result<Vec<HeldBack>, PortError> {
        let summarised = lock(&self.summarised);
        let mut out: Vec<HeldBack> = Vec::new();
        for d in lock(&self.deliveries).iter() {
            if d.state != Admission::Held
                || d.window.end > now
                || summarised.contains(&(d.channel.clone(), d.window.start))
            {
                continue;
            }
            match out
                .iter_mut()
                .find(|h| h.channel == d.channel && h.window == d.window)
            {
                Some(h) => {
                    h.count += 1;
                    if h.titles.len() < MAX_SUMMARY_TITLES {
                        h.titles.push(d.title.clone());
                    }
                }
                None => out.push(HeldBack {
                    channel: d.channel.clone(),
                    window: d.window,
                    count: 1,
                    titles: vec![d.title.clone()],
                }),
            }
        }
        Ok(out)
    }

    async fn summarised(&self, channel: &str, window: StormWindow) -> Result<(), PortError> {
        lock(&self.summarised).insert((channel.to_owned(), window.start));
        Ok(())
    }
}
