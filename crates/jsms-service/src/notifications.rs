//! Notifications to one user: reminders of overdue action items, decisions awaiting their
//! approval, the outcome of their own proposals, privilege requests awaiting a second
//! administrator. Each user reads and marks only their own; a notification carries a short
//! text and a link into the web application, never sealed data.

use crate::error::Result;
use crate::{Caller, Services};
use jsms_domain::ids::UserId;
use jsms_store::Notification;
use uuid::Uuid;

/// Notifications kept per user in the list.
const LIST_LIMIT: usize = 100;

impl Services {
    /// Sends `text` with `link` to each of `users` (duplicates once). Failures are logged,
    /// not returned: a notification is a courtesy on top of a change already made and
    /// recorded.
    pub async fn notify(&self, users: &[UserId], kind: &'static str, text: &str, link: &str) {
        let now = self.clock.now();
        let mut seen = std::collections::HashSet::new();
        let notes: Vec<Notification> = users
            .iter()
            .filter(|u| seen.insert(**u))
            .map(|&user| Notification {
                id: Uuid::now_v7(),
                user,
                kind: kind.to_owned(),
                text: text.to_owned(),
                link: link.to_owned(),
                created_at: now,
                read_at: None,
            })
            .collect();
        if notes.is_empty() {
            return;
        }
        if let Err(e) = self.db(move |s| s.notify(&notes)).await {
            tracing::error!(error = %e, kind, "notifications not stored");
        }
    }

    /// The caller's latest notifications, newest first (their own only).
    pub async fn my_notifications(&self, caller: &Caller) -> Result<Vec<Notification>> {
        let me = caller.human()?.id;
        self.db(move |s| s.notifications(me, LIST_LIMIT)).await
    }

    /// Marks one of the caller's notifications read (another user's is not found).
    pub async fn mark_notification_read(&self, caller: &Caller, id: Uuid) -> Result<()> {
        let me = caller.human()?.id;
        let now = self.clock.now();
        self.db(move |s| s.mark_notification_read(me, id, now)).await
    }
}
