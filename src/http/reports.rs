//! The routing report (under `/api/v1`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiResult, ErrorBody};
use super::extract::{ApiQuery, Caller};
use crate::service::{OperatorReport, RoutingReport, report_window};
use crate::timefmt::rfc3339;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(routing))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowParams {
    /// The window's start, inclusive: an ISO 8601 instant with an offset
    /// (`2026-01-05T00:00:00Z`).
    from: String,
    /// The window's end, exclusive; at most 366 days after `from`.
    to: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoutingReportDto {
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub to: String,
    /// The active teammates, and deactivated ones given chats in the window, in join order.
    pub operators: Vec<OperatorReportDto>,
    pub queue: QueueNowDto,
    /// The window day by day from `from` (24-hour steps; the last day ends at `to`).
    pub days: Vec<DayReportDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayReportDto {
    /// The day's start.
    pub day: String,
    /// Assignments that day, to anyone.
    pub assigned: u64,
    /// Median seconds from handover to assignment over that day's assignments that ended a
    /// wait; null with none.
    pub median_wait_secs: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorReportDto {
    pub operator_id: i64,
    pub name: String,
    /// Assignments to them in the window, by reason (`round_robin`, `claim`, `reply`, …);
    /// reasons that did not occur are left out.
    pub assigned: BTreeMap<String, u64>,
    /// Median seconds from a chat's handover to the assignment that ended its wait, over
    /// their assignments in the window that took a chat from nobody; null without any.
    pub median_wait_secs: Option<f64>,
    /// Median seconds from an assignment to their first reply in that chat, over their
    /// assignments in the window they answered; null without any.
    pub median_first_reply_secs: Option<f64>,
    /// Chats moved away from them in the window because they left them unanswered.
    pub unanswered_moves: u64,
    /// Their open chats now.
    pub load: u64,
    /// Now; null = no limit.
    pub capacity: Option<i64>,
}

/// The queue now: `handed_off`, unassigned chats of widgets that route automatically.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueNowDto {
    pub length: i64,
    /// When the chat waiting longest was handed to the team; null when the queue is empty.
    #[schema(format = DateTime)]
    pub oldest_queued_at: Option<String>,
}

impl From<&OperatorReport> for OperatorReportDto {
    fn from(r: &OperatorReport) -> OperatorReportDto {
        OperatorReportDto {
            operator_id: r.operator.id,
            name: r.operator.name.clone(),
            assigned: r.assigned.clone(),
            median_wait_secs: r.median_wait_secs,
            median_first_reply_secs: r.median_first_reply_secs,
            unanswered_moves: r.unanswered_moves,
            load: r.load,
            capacity: r.operator.capacity,
        }
    }
}

impl From<&RoutingReport> for RoutingReportDto {
    fn from(r: &RoutingReport) -> RoutingReportDto {
        RoutingReportDto {
            from: rfc3339::format(r.window.from),
            to: rfc3339::format(r.window.to),
            operators: r.operators.iter().map(OperatorReportDto::from).collect(),
            queue: QueueNowDto {
                length: r.queue_length,
                oldest_queued_at: r.oldest_queued_at.map(rfc3339::format),
            },
            days: r
                .days
                .iter()
                .map(|d| DayReportDto {
                    day: rfc3339::format(d.from),
                    assigned: d.assigned,
                    median_wait_secs: d.median_wait_secs,
                })
                .collect(),
        }
    }
}

/// Who was given which chats in a window, and how fast they were taken and answered (owner or
/// admin). The window filters on the assignment's time.
#[utoipa::path(get, path = "/reports/routing", tag = "reports", params(WindowParams),
    responses((status = 200, body = RoutingReportDto),
              (status = 400, description = "`from` or `to` missing or not an ISO 8601 instant, `from` after `to`, or more than 366 days between them", body = ErrorBody),
              (status = 401, body = ErrorBody),
              (status = 403, description = "not an owner or admin", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn routing(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<WindowParams>,
) -> ApiResult<Json<RoutingReportDto>> {
    let window = report_window(&params.from, &params.to)?;
    let report = state
        .service
        .routing_report(&caller.operator, window)
        .await?;
    Ok(Json(RoutingReportDto::from(&report)))
}
