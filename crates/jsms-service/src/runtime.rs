//! The background work of an instance, started in one place: the audit checkpointer (and
//! its witnesses), the release scheduler, the tracking detectors, the webhook outbox, the
//! overdue-action reminders and the break-glass review escalation. Every loop reads the
//! services' clock and also wakes when a virtual clock is moved, so tests advance time
//! instead of sleeping.

use crate::Services;
use crate::audit::WitnessEndpoint;
use crate::clock::tick;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How often each loop runs.
#[derive(Debug, Clone)]
pub struct Intervals {
    /// Checkpoints are signed this often while entries arrive.
    pub checkpoint: Duration,
    /// The release scheduler's tick.
    pub release: Duration,
    /// The detectors' tick.
    pub detectors: Duration,
    /// How often overdue action items are looked for.
    pub reminders: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        Self {
            checkpoint: Duration::from_secs(2),
            release: Duration::from_secs(1),
            detectors: Duration::from_secs(1),
            reminders: Duration::from_secs(60),
        }
    }
}

/// Runs `step` every `interval` (and whenever the clock is moved by hand), logging failures
/// as `what`.
pub fn every<F, Fut>(services: &Arc<Services>, interval: Duration, what: &'static str, step: F)
where
    F: Fn(Arc<Services>) -> Fut + Send + 'static,
    Fut: Future<Output = crate::Result<()>> + Send,
{
    let services = Arc::clone(services);
    tokio::spawn(async move {
        let mut timer = tokio::time::interval(interval);
        let mut moved = services.clock.moved();
        loop {
            tick(&mut timer, &mut moved).await;
            if let Err(e) = step(Arc::clone(&services)).await {
                tracing::error!(error = %e, "{what} failed");
            }
        }
    });
}

/// Restores the state that lives in memory (watched routes, trackers of movements under
/// way) and starts every background loop of the service layer. Releases missed while the
/// server was down happen at the first tick, right away.
pub async fn start(
    services: &Arc<Services>,
    witnesses: Vec<WitnessEndpoint>,
    intervals: Intervals,
) -> crate::Result<()> {
    crate::audit::spawn_checkpointer(Arc::clone(&services.audit), witnesses, intervals.checkpoint);
    let watched = services.watch_active().await?;
    tracing::info!(watched, "planned routes watched for zone changes");
    every(services, intervals.release, "release scheduler", |s| async move {
        s.release_due().await.map(drop)
    });
    let restored = services.restore_trackers().await?;
    tracing::info!(restored, "movements under way tracked");
    every(services, intervals.detectors, "detector tick", |s| async move {
        s.detector_tick().await
    });
    every(services, intervals.reminders, "action item reminders", |s| async move {
        s.remind_overdue().await.map(drop)
    });
    let sweep = Duration::from_secs(
        u64::try_from(services.break_glass.review_deadline_secs / 4)
            .unwrap_or(1)
            .clamp(1, 600),
    );
    every(services, sweep, "break-glass escalation", |s| async move {
        s.escalate_break_glass().await.map(drop)
    });
    // Deliveries left in the outbox by a previous run go out now.
    crate::webhooks::spawn_outbox(Arc::clone(services));
    Ok(())
}
