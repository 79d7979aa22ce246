//! The routing report (SPEC 10): per operator, the chats they were given in a window and how
//! fast those chats were taken and answered, with their load and capacity and the queue now.

use std::collections::{BTreeMap, HashMap};

use super::{Service, ServiceError, ServiceResult};
use crate::domain::report::{self, Window};
use crate::domain::{Id, Millis};
use crate::store::{Operator, operators, reports};
use crate::timefmt::rfc3339;

pub struct RoutingReport {
    pub window: Window,
    /// The active teammates, and deactivated ones who were given chats in the window, in join
    /// order.
    pub operators: Vec<OperatorReport>,
    /// The window day by day, from its start.
    pub days: Vec<report::DayFigures>,
    pub queue_length: i64,
    pub oldest_queued_at: Option<Millis>,
}

pub struct OperatorReport {
    pub operator: Operator,
    pub load: u64,
    pub assigned: BTreeMap<String, u64>,
    pub median_wait_secs: Option<f64>,
    pub median_first_reply_secs: Option<f64>,
    pub unanswered_moves: u64,
}

/// The window of `from` and `to` as the query gives them (RFC 3339 instants); what is wrong
/// with them is a 400 that names the parameter.
pub fn report_window(from: &str, to: &str) -> ServiceResult<Window> {
    let instant = |name: &str, text: &str| {
        rfc3339::parse(text).ok_or_else(|| {
            ServiceError::invalid(
                "invalid_window",
                format!(
                    "{name} must be an ISO 8601 instant with an offset, like 2026-01-05T00:00:00Z"
                ),
            )
        })
    };
    let (from, to) = (instant("from", from)?, instant("to", to)?);
    Window::new(from, to).map_err(|message| ServiceError::invalid("invalid_window", message))
}

impl Service {
    /// Owners and admins read their own workspace's report.
    pub async fn routing_report(
        &self,
        caller: &Operator,
        window: Window,
    ) -> ServiceResult<RoutingReport> {
        if !caller.role.can_manage() {
            return Err(ServiceError::forbidden(
                "Only an owner or admin can read the routing report",
            ));
        }
        let workspace = caller.workspace_id;
        let (team, assignments, unanswered, queue) = self
            .store
            .long_read(async |conn| {
                let team = operators::list_with_loads(conn, workspace).await?;
                let assignments = reports::assignments(conn, workspace, window).await?;
                let unanswered = reports::unanswered_moves(conn, workspace, window).await?;
                let queue = reports::queue(conn, workspace).await?;
                Ok((team, assignments, unanswered, queue))
            })
            .await?;
        let unanswered: HashMap<Id, i64> = unanswered.into_iter().collect();
        let days = report::days(window, &assignments);
        let mut figures = report::figures(&assignments);
        let operators = team
            .into_iter()
            .filter_map(|member| {
                let id = member.operator.id;
                let mine = figures.remove(&id);
                let in_report =
                    member.operator.is_active() || mine.is_some() || unanswered.contains_key(&id);
                let mine = mine.unwrap_or_default();
                let report = OperatorReport {
                    load: member.load,
                    assigned: mine.assigned,
                    median_wait_secs: mine.median_wait_secs,
                    median_first_reply_secs: mine.median_first_reply_secs,
                    unanswered_moves: unanswered.get(&id).copied().unwrap_or(0).max(0) as u64,
                    operator: member.operator,
                };
                in_report.then_some(report)
            })
            .collect();
        Ok(RoutingReport {
            window,
            operators,
            days,
            queue_length: queue.length,
            oldest_queued_at: queue.oldest_since,
        })
    }
}
