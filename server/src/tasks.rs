//! The background tasks beside the HTTP server, under one shutdown token: the flush of
//! usage counters and request log (every second), housekeeping (purges, expiring-key
//! events, origin index backstop), the alert worker, the limits' upkeep (tenant
//! changes, idle quota, rate windows), the metrics listener, the PostgreSQL change feed
//! and the webhook delivery worker; and the shutdown sequence that stops them (the
//! delivery worker first, the flush writes last).

use std::net::SocketAddr;
use std::time::Duration;

use gatehouse_domain::Gatehouse;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The running background tasks, until [`BackgroundTasks::shut_down`].
pub struct BackgroundTasks {
    gatehouse: Gatehouse,
    /// Stops every task but the delivery worker.
    stop: CancellationToken,
    tasks: TaskTracker,
    /// The delivery worker stops on its own token, before the rest.
    stop_deliveries: CancellationToken,
    deliveries: tokio::task::JoinHandle<()>,
}

impl BackgroundTasks {
    /// Starts every background task, and the metrics listener on its own address when
    /// one is configured.
    pub async fn start(
        gatehouse: &Gatehouse,
        metrics_addr: Option<SocketAddr>,
    ) -> Result<Self, String> {
        let stop = CancellationToken::new();
        let tasks = TaskTracker::new();
        tasks.spawn(flush_every_second(gatehouse.clone(), stop.clone()));
        tasks.spawn(housekeeping(gatehouse.clone(), stop.clone()));
        tasks.spawn(follow_limits(gatehouse.clone(), stop.clone()));
        tasks.spawn(send_alerts(gatehouse.clone(), stop.clone()));
        tasks.spawn(purge_tenants(gatehouse.clone(), stop.clone()));
        if let Some(metrics_addr) = metrics_addr {
            let metrics_listener = tokio::net::TcpListener::bind(metrics_addr)
                .await
                .map_err(|error| format!("cannot listen on {metrics_addr} for metrics: {error}"))?;
            tracing::info!(address = %metrics_addr, "metrics on http://{metrics_addr}/metrics");
            let router = crate::metrics::open_router(gatehouse.clone());
            let stop = stop.clone();
            tasks.spawn(async move {
                let served = axum::serve(metrics_listener, router)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await;
                if let Err(error) = served {
                    tracing::error!(%error, "the metrics listener failed");
                }
            });
        }
        tasks.spawn({
            let gatehouse = gatehouse.clone();
            let stop = stop.clone();
            async move { gatehouse.follow_key_changes(stop).await }
        });
        // The delivery worker stops on its own token, before the flush: it claims nothing
        // more, lets attempts in flight finish and records them; then the rest stops and
        // the usage counters and the request log are written last.
        let stop_deliveries = CancellationToken::new();
        let deliveries = tokio::spawn({
            let gatehouse = gatehouse.clone();
            let stop = stop_deliveries.clone();
            async move { gatehouse.run_delivery_worker(stop).await }
        });
        tasks.close();
        Ok(Self {
            gatehouse: gatehouse.clone(),
            stop,
            tasks,
            stop_deliveries,
            deliveries,
        })
    }

    /// Stops the tasks once the server has stopped answering: the delivery worker first
    /// (awaited), then the rest (awaited: the flush writes once more); then gives back
    /// the unused quota allowance and closes the database.
    pub async fn shut_down(self) {
        self.stop_deliveries.cancel();
        if let Err(error) = self.deliveries.await {
            tracing::error!(%error, "the delivery worker failed");
        }
        self.stop.cancel();
        self.tasks.wait().await;
        // What this instance holds of tenants' monthly quotas goes back for the others.
        if let Err(error) = self.gatehouse.release_unused_quota(true).await {
            tracing::warn!(%error, "unused quota allowance not given back at shutdown");
        }
        self.gatehouse.db().close().await;
    }
}

/// Writes the usage counters and the buffered request log about once a second: a crash
/// loses at most the last second; a failed write is retried with the next tick. When
/// `stop` fires it writes once more (the calls answered since the last tick) and
/// returns; a write in progress is never cut off.
async fn flush_every_second(gatehouse: Gatehouse, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            () = stop.cancelled() => true,
            _ = ticks.tick() => false,
        };
        if let Err(error) = gatehouse.flush_usage().await {
            if stopping {
                tracing::error!(%error, "usage counters could not be written at shutdown");
            } else {
                tracing::warn!(%error, "usage counters not written yet; retrying");
            }
        }
        if let Err(error) = gatehouse.flush_request_logs().await {
            if stopping {
                tracing::error!(%error, "the request log could not be written at shutdown");
            } else {
                tracing::warn!(%error, "the request log not written yet; retrying");
            }
        }
        if stopping {
            return;
        }
    }
}

/// Twice a second, applies the operator's tenant changes (plan, modules, subscription,
/// limit: honoured within a second); every second, gives back quota
/// allowance that idle tenants hold and forgets rate windows that ended.
async fn follow_limits(gatehouse: Gatehouse, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(Duration::from_millis(500));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tick_count: u64 = 0;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match gatehouse.apply_tenant_changes().await {
            Ok(0) => {}
            Ok(changed) => tracing::info!(changed, "tenant changes applied"),
            Err(error) => tracing::warn!(%error, "tenant changes not read; retrying"),
        }
        tick_count += 1;
        if tick_count.is_multiple_of(2) {
            gatehouse.prune_rate_windows();
            if let Err(error) = gatehouse.release_unused_quota(false).await {
                tracing::warn!(%error, "idle quota allowance not given back; retrying");
            }
        }
    }
}

/// Every minute, deletes what expired; every half minute, reloads the allowed origins
/// (a backstop for a change feed that was down). First, rewrites the request log's
/// rows of its first form as segments.
async fn housekeeping(gatehouse: Gatehouse, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(Duration::from_secs(30));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tick_count: u64 = 0;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        if tick_count == 0 {
            match gatehouse.convert_legacy_request_logs().await {
                Ok(0) => {}
                Ok(converted) => {
                    tracing::info!(converted, "request log rows rewritten as segments")
                }
                Err(error) => {
                    tracing::warn!(%error, "request log rows not rewritten; next start tries again")
                }
            }
        }
        if tick_count.is_multiple_of(2) {
            match gatehouse.purge_expired().await {
                Ok(report) => tracing::debug!(?report, "expired rows purged"),
                Err(error) => tracing::warn!(%error, "purge failed; retrying in a minute"),
            }
            match gatehouse.announce_expiring_keys().await {
                Ok(0) => {}
                Ok(announced) => tracing::info!(announced, "api_key.expiring events sent"),
                Err(error) => {
                    tracing::warn!(%error, "expiring keys not announced; retrying in a minute")
                }
            }
        }
        tick_count += 1;
        if let Err(error) = gatehouse.reload_origin_index().await {
            tracing::warn!(%error, "allowed origins not reloaded");
        }
    }
}

/// Every second, goes on with the purges of deleted tenants (a batch at a time, so a
/// stop waits for one batch at most; one cut short resumes at the next start).
async fn purge_tenants(gatehouse: Gatehouse, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        tokio::select! {
            () = stop.cancelled() => return,
            purged = gatehouse.continue_purges() => match purged {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "tenant purge: rows removed"),
                Err(error) => tracing::warn!(%error, "tenant purge interrupted; resuming"),
            },
        }
    }
}

/// Every 5 seconds, records the usage alerts that became due and mails the alerts
/// waiting to be sent. A message being sent when `stop` fires finishes.
async fn send_alerts(gatehouse: Gatehouse, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(Duration::from_secs(5));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        if let Err(error) = gatehouse.check_usage_alerts().await {
            tracing::warn!(%error, "usage alerts not checked; retrying");
        }
        match gatehouse.send_due_alerts().await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "alert emails sent"),
            Err(error) => tracing::warn!(%error, "alert emails not sent; retrying"),
        }
    }
}
