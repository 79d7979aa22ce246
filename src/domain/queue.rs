//! The visitor's place in line (SPEC 10): pure, from the queue and the widgets' eligible teams.

use super::{Id, Millis};

/// Where a queued chat stands, as its visitor is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Place {
    /// 1 = next.
    pub position: u64,
    /// None until the widget has routed enough chats to tell.
    pub estimated_wait_secs: Option<u64>,
}

/// A queued chat with the teammates who could take it (its widget's eligible, active team).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InLine {
    pub conversation_id: Id,
    pub queued_at: Millis,
    pub team: Vec<Id>,
}

/// 1 + the chats queued earlier (then lower id) that share at least one eligible teammate with
/// `chat`: the ones that would be served before it.
pub fn position(chat: &InLine, queue: &[InLine]) -> u64 {
    let ahead = queue
        .iter()
        .filter(|other| {
            (other.queued_at, other.conversation_id) < (chat.queued_at, chat.conversation_id)
        })
        .filter(|other| other.team.iter().any(|id| chat.team.contains(id)))
        .count();
    1 + ahead as u64
}

/// Fewest routed chats an estimate is made from.
pub const MIN_SAMPLES: usize = 5;

/// The median wait of the recent routed chats (handover to assignment, zero waits included)
/// times the position; None with fewer than `MIN_SAMPLES` waits.
pub fn estimated_wait_secs(waits_ms: &[i64], position: u64) -> Option<u64> {
    if waits_ms.len() < MIN_SAMPLES {
        return None;
    }
    let mut sorted: Vec<i64> = waits_ms.iter().map(|w| (*w).max(0)).collect();
    sorted.sort_unstable();
    let n = sorted.len();
    let median_ms = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    };
    Some((median_ms as u64 * position).div_ceil(1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chat(id: Id, queued_at: Millis, team: &[Id]) -> InLine {
        InLine {
            conversation_id: id,
            queued_at,
            team: team.to_vec(),
        }
    }

    #[test]
    fn only_earlier_chats_sharing_a_teammate_are_ahead() {
        let queue = [
            chat(1, 10, &[1, 2]),
            chat(2, 20, &[3]),
            chat(3, 30, &[2]),
            chat(4, 30, &[1]),
        ];
        assert_eq!(position(&queue[0], &queue), 1);
        assert_eq!(
            position(&queue[1], &queue),
            1,
            "nobody ahead shares teammate 3"
        );
        assert_eq!(position(&queue[2], &queue), 2);
        assert_eq!(
            position(&queue[3], &queue),
            2,
            "3 shares no teammate with 4"
        );
    }

    #[test]
    fn the_estimate_is_the_median_times_the_position() {
        assert_eq!(estimated_wait_secs(&[0, 0, 0, 0], 1), None);
        assert_eq!(
            estimated_wait_secs(&[0, 1000, 60_000, 90_000, 5000], 2),
            Some(10)
        );
        assert_eq!(estimated_wait_secs(&[0, 0, 0, 0, 0], 3), Some(0));
        assert_eq!(
            estimated_wait_secs(&[1000, 2000, 3000, 4000, 5000, 6000], 1),
            Some(4)
        );
    }

    proptest! {
        #[test]
        fn positions_in_one_team_are_one_to_n(n in 1usize..20) {
            let queue: Vec<InLine> = (0..n).map(|i| chat(i as Id + 1, (n - i) as Millis, &[7])).collect();
            let mut got: Vec<u64> = queue.iter().map(|c| position(c, &queue)).collect();
            got.sort_unstable();
            prop_assert_eq!(got, (1..=n as u64).collect::<Vec<_>>());
        }
    }
}
