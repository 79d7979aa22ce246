//! The routing report's rules (SPEC 10, "The report"): which windows may be asked for, and the
//! figures per operator made of the assignments in the window. Pure: the store reads the rows,
//! this decides what they add up to.

use std::collections::BTreeMap;

use super::{Id, Millis};

/// The longest window a report covers.
pub const MAX_WINDOW_DAYS: i64 = 366;
const DAY_MS: Millis = 24 * 60 * 60 * 1000;

/// A report's window: `from` inclusive, `to` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Millis,
    pub to: Millis,
}

impl Window {
    /// `from` may equal `to` (an empty window) but not come after it, and the window is at
    /// most `MAX_WINDOW_DAYS` long. The error says what is wrong, in the caller's terms.
    pub fn new(from: Millis, to: Millis) -> Result<Window, &'static str> {
        if from > to {
            return Err("from must not be after to");
        }
        if to - from > MAX_WINDOW_DAYS * DAY_MS {
            return Err("the window may be at most 366 days long");
        }
        Ok(Window { from, to })
    }
}

/// One assignment to an operator in the window, as the store reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub operator_id: Id,
    pub reason: String,
    pub at: Millis,
    /// When the wait this assignment ended began (the chat's handover), for an assignment
    /// that took the chat from nobody after its handover; None otherwise.
    pub waiting_since: Option<Millis>,
    /// The assignee's first reply in the chat after the assignment, if any.
    pub first_reply_at: Option<Millis>,
}

/// What the report says about one operator's window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OperatorFigures {
    /// Assignments to them, by reason.
    pub assigned: BTreeMap<String, u64>,
    /// Median seconds from handover to assignment, over the assignments that ended a wait.
    pub median_wait_secs: Option<f64>,
    /// Median seconds from assignment to their first reply, over the assignments they
    /// answered.
    pub median_first_reply_secs: Option<f64>,
}

/// Adds up each operator's assignments. Operators without any get no entry.
pub fn figures(assignments: &[Assignment]) -> BTreeMap<Id, OperatorFigures> {
    let mut waits: BTreeMap<Id, Vec<Millis>> = BTreeMap::new();
    let mut replies: BTreeMap<Id, Vec<Millis>> = BTreeMap::new();
    let mut out: BTreeMap<Id, OperatorFigures> = BTreeMap::new();
    for a in assignments {
        *out.entry(a.operator_id)
            .or_default()
            .assigned
            .entry(a.reason.clone())
            .or_default() += 1;
        if let Some(since) = a.waiting_since.filter(|since| *since <= a.at) {
            waits.entry(a.operator_id).or_default().push(a.at - since);
        }
        if let Some(reply) = a.first_reply_at.filter(|reply| *reply >= a.at) {
            replies.entry(a.operator_id).or_default().push(reply - a.at);
        }
    }
    for (id, figures) in &mut out {
        figures.median_wait_secs = waits.get_mut(id).and_then(|w| median_secs(w));
        figures.median_first_reply_secs = replies.get_mut(id).and_then(|r| median_secs(r));
    }
    out
}

/// One day of the window: the assignments in it and their median wait.
#[derive(Debug, Clone, PartialEq)]
pub struct DayFigures {
    /// The day's start: the window's start plus whole days, so days follow the caller's
    /// midnight when `from` is one.
    pub from: Millis,
    pub assigned: u64,
    /// Median seconds from handover to assignment, over that day's assignments that ended a
    /// wait.
    pub median_wait_secs: Option<f64>,
}

/// The window cut into days from its start (the last one ends with the window), each with
/// every operator's assignments of that day: the "waits over time" of the report.
pub fn days(window: Window, assignments: &[Assignment]) -> Vec<DayFigures> {
    let count = (window.to - window.from + DAY_MS - 1) / DAY_MS;
    let mut assigned = vec![0u64; count as usize];
    let mut waits: Vec<Vec<Millis>> = vec![Vec::new(); count as usize];
    for a in assignments
        .iter()
        .filter(|a| a.at >= window.from && a.at < window.to)
    {
        let day = ((a.at - window.from) / DAY_MS) as usize;
        assigned[day] += 1;
        if let Some(since) = a.waiting_since.filter(|since| *since <= a.at) {
            waits[day].push(a.at - since);
        }
    }
    waits
        .iter_mut()
        .zip(assigned)
        .enumerate()
        .map(|(day, (waits, assigned))| DayFigures {
            from: window.from + day as Millis * DAY_MS,
            assigned,
            median_wait_secs: median_secs(waits),
        })
        .collect()
}

/// The median of durations in milliseconds, in seconds: the middle one, or the mean of the
/// two middle ones; None for none.
pub fn median_secs(durations: &mut [Millis]) -> Option<f64> {
    if durations.is_empty() {
        return None;
    }
    durations.sort_unstable();
    let mid = durations.len() / 2;
    let ms = if durations.len() % 2 == 1 {
        durations[mid] as f64
    } else {
        (durations[mid - 1] as f64 + durations[mid] as f64) / 2.0
    };
    Some(ms / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn assignment(operator_id: Id, reason: &str, at: Millis) -> Assignment {
        Assignment {
            operator_id,
            reason: reason.to_owned(),
            at,
            waiting_since: None,
            first_reply_at: None,
        }
    }

    #[test]
    fn windows_are_ordered_and_at_most_366_days() {
        assert!(Window::new(10, 10).is_ok(), "an empty window");
        assert_eq!(Window::new(11, 10), Err("from must not be after to"));
        assert!(Window::new(0, 366 * DAY_MS).is_ok());
        assert_eq!(
            Window::new(0, 366 * DAY_MS + 1),
            Err("the window may be at most 366 days long")
        );
    }

    #[test]
    fn days_split_the_window_from_its_start_and_take_each_days_median_wait() {
        let window = Window::new(1_000, 1_000 + 2 * DAY_MS + 5).unwrap();
        let rows = vec![
            Assignment {
                waiting_since: Some(1_000),
                ..assignment(1, "round_robin", 11_000)
            },
            Assignment {
                waiting_since: Some(1_000),
                ..assignment(2, "claim", 31_000)
            },
            assignment(2, "unanswered", 1_000 + DAY_MS + 7),
            assignment(1, "claim", 1_000 + 2 * DAY_MS + 4),
        ];
        let out = days(window, &rows);
        assert_eq!(
            out,
            vec![
                DayFigures {
                    from: 1_000,
                    assigned: 2,
                    median_wait_secs: Some(20.0)
                },
                DayFigures {
                    from: 1_000 + DAY_MS,
                    assigned: 1,
                    median_wait_secs: None
                },
                DayFigures {
                    from: 1_000 + 2 * DAY_MS,
                    assigned: 1,
                    median_wait_secs: None
                },
            ],
            "the last, short day ends with the window"
        );
        assert!(days(Window::new(5, 5).unwrap(), &rows).is_empty());
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median_secs(&mut []), None);
        assert_eq!(median_secs(&mut [3_000]), Some(3.0));
        assert_eq!(median_secs(&mut [9_000, 1_000, 5_000]), Some(5.0));
        assert_eq!(median_secs(&mut [4_000, 1_000, 2_000, 10_000]), Some(3.0));
    }

    #[test]
    fn figures_count_reasons_and_take_medians_per_operator() {
        let rows = vec![
            Assignment {
                waiting_since: Some(0),
                first_reply_at: Some(70_000),
                ..assignment(1, "round_robin", 10_000)
            },
            Assignment {
                waiting_since: Some(100_000),
                first_reply_at: None,
                ..assignment(1, "round_robin", 130_000)
            },
            Assignment {
                waiting_since: Some(200_000),
                first_reply_at: Some(260_000),
                ..assignment(1, "claim", 250_000)
            },
            assignment(2, "manual", 5),
        ];
        let out = figures(&rows);
        let ana = &out[&1];
        assert_eq!(ana.assigned["round_robin"], 2);
        assert_eq!(ana.assigned["claim"], 1);
        assert_eq!(ana.median_wait_secs, Some(30.0), "10, 30 and 50 s");
        assert_eq!(
            ana.median_first_reply_secs,
            Some(35.0),
            "60 and 10 s; the unanswered one has none"
        );
        let bob = &out[&2];
        assert_eq!(bob.assigned["manual"], 1);
        assert_eq!(
            (bob.median_wait_secs, bob.median_first_reply_secs),
            (None, None)
        );
    }

    proptest! {
        #[test]
        fn the_median_lies_between_the_extremes_and_splits_the_rest(mut values in prop::collection::vec(0i64..1_000_000_000, 1..60)) {
            // Compared in seconds, as the median is given: dividing by 1000 keeps the order.
            let median = median_secs(&mut values.clone()).unwrap();
            values.sort_unstable();
            let secs = |v: &i64| *v as f64 / 1000.0;
            prop_assert!(median >= secs(&values[0]) && median <= secs(&values[values.len() - 1]));
            let below = values.iter().filter(|v| secs(v) < median).count();
            let above = values.iter().filter(|v| secs(v) > median).count();
            prop_assert!(below <= values.len() / 2 && above <= values.len() / 2);
        }

        #[test]
        fn every_assignment_is_counted_once_under_its_reason(rows in prop::collection::vec((1i64..4, 0usize..3, 0i64..1_000), 0..50)) {
            let reasons = ["round_robin", "claim", "reply"];
            let assignments: Vec<Assignment> = rows.iter().map(|(op, r, at)| assignment(*op, reasons[*r], *at)).collect();
            let out = figures(&assignments);
            let total: u64 = out.values().flat_map(|f| f.assigned.values()).sum();
            prop_assert_eq!(total as usize, assignments.len());
        }
    }
}
