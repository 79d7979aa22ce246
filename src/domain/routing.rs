//! The routing rules of SPEC section 3 as pure functions: they take the team, the widget's
//! settings and its cursor, and return a decision. The service layer reads those inputs inside
//! the workspace's write transaction and writes the decision back in the same transaction.

use super::{Availability, Id, Millis, text_enum};

text_enum!(
    /// How a widget hands conversations to the team.
    RoutingMode, "routing mode" {
        Manual => "manual",
        RoundRobin => "round_robin",
        LightestLoad => "lightest_load",
    }
);

text_enum!(
    /// Why a conversation's assignee changed; recorded on every assignment event.
    AssignmentReason, "assignment reason" {
        RoundRobin => "round_robin",
        LightestLoad => "lightest_load",
        Reply => "reply",
        Claim => "claim",
        Manual => "manual",
        Unassign => "unassign",
        AssigneeAway => "assignee_away",
        AssigneeRemoved => "assignee_removed",
    }
);

text_enum!(
    /// Why a conversation that needs a human is waiting unassigned.
    WaitingReason, "waiting reason" {
        ManualMode => "manual_mode",
        NoAvailableOperator => "no_available_operator",
    }
);

impl RoutingMode {
    pub fn description(self) -> &'static str {
        match self {
            RoutingMode::Manual => "Chats wait in the Unassigned queue until someone claims them.",
            RoutingMode::RoundRobin => {
                "Chats go to available teammates in turn, in the order they joined."
            }
            RoutingMode::LightestLoad => {
                "Each chat goes to the available teammate with the fewest open chats."
            }
        }
    }
}

/// Where an operator stands in the workspace's join order: creation time, then id. Round-robin
/// rotates through this order, and a widget's cursor is the position of the operator it last
/// chose, so the rotation survives that operator leaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JoinPosition {
    pub joined_at: Millis,
    pub id: Id,
}

/// What routing needs to know about one member of the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Teammate {
    pub position: JoinPosition,
    /// False while deactivated: they stay in the join order but are never chosen.
    pub active: bool,
    pub availability: Availability,
    /// Conversations assigned to them whose status is `active` or `handed_off`.
    pub load: u64,
    pub last_assigned_at: Option<Millis>,
}

impl Teammate {
    pub fn id(&self) -> Id {
        self.position.id
    }
}

/// The outcome of routing one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Assign {
        operator_id: Id,
        reason: AssignmentReason,
    },
    Wait(WaitingReason),
}

/// The candidates of a widget: its eligible teammates (`eligible` empty = everyone) who are
/// active and available.
pub fn candidates<'a>(team: &'a [Teammate], eligible: &[Id]) -> Vec<&'a Teammate> {
    team.iter()
        .filter(|t| t.active && t.availability == Availability::Available)
        .filter(|t| eligible.is_empty() || eligible.contains(&t.id()))
        .collect()
}

/// Round-robin: the first candidate after `cursor` in join order, wrapping around to the first
/// candidate. `None` only when there is no candidate.
pub fn choose_round_robin(
    candidates: &[JoinPosition],
    cursor: Option<JoinPosition>,
) -> Option<JoinPosition> {
    let first = candidates.iter().min();
    let after_cursor = cursor.and_then(|c| candidates.iter().filter(|p| **p > c).min());
    after_cursor.or(first).copied()
}

/// Lightest load: the lowest load; ties go to the least recently assigned (never assigned
/// first), then to the lowest id. The order of `candidates` does not matter.
pub fn choose_lightest_load<'a>(candidates: &[&'a Teammate]) -> Option<&'a Teammate> {
    candidates
        .iter()
        .min_by_key(|t| (t.load, t.last_assigned_at, t.id()))
        .copied()
}

/// Routes one conversation that needs a human and has no assignee.
pub fn route(
    mode: RoutingMode,
    team: &[Teammate],
    eligible: &[Id],
    cursor: Option<JoinPosition>,
) -> Decision {
    let candidates = candidates(team, eligible);
    let chosen = match mode {
        RoutingMode::Manual => return Decision::Wait(WaitingReason::ManualMode),
        RoutingMode::RoundRobin => {
            let positions: Vec<JoinPosition> = candidates.iter().map(|t| t.position).collect();
            choose_round_robin(&positions, cursor).map(|p| p.id)
        }
        RoutingMode::LightestLoad => choose_lightest_load(&candidates).map(Teammate::id),
    };
    match chosen {
        Some(operator_id) => Decision::Assign {
            operator_id,
            reason: match mode {
                RoutingMode::RoundRobin => AssignmentReason::RoundRobin,
                _ => AssignmentReason::LightestLoad,
            },
        },
        None => Decision::Wait(WaitingReason::NoAvailableOperator),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeSet, HashMap};

    fn positions() -> impl Strategy<Value = Vec<JoinPosition>> {
        // Few distinct join times so that ties on time (broken by id) are common.
        proptest::collection::btree_set((0i64..5, 1i64..1000), 1..12).prop_map(|set| {
            let mut seen_ids = BTreeSet::new();
            set.into_iter()
                .filter(|(_, id)| seen_ids.insert(*id))
                .map(|(joined_at, id)| JoinPosition { joined_at, id })
                .collect()
        })
    }

    fn teammate(id: Id, available: bool, load: u64, last: Option<Millis>) -> Teammate {
        Teammate {
            position: JoinPosition { joined_at: 0, id },
            active: true,
            availability: if available {
                Availability::Available
            } else {
                Availability::Away
            },
            load,
            last_assigned_at: last,
        }
    }

    proptest! {
        #[test]
        fn round_robin_is_exactly_fair_and_strictly_rotates(
            candidates in positions(),
            start in proptest::option::of((0i64..6, 0i64..1001)),
            k in 0usize..60,
        ) {
            let n = candidates.len();
            let mut sorted = candidates.clone();
            sorted.sort();
            let mut cursor = start.map(|(joined_at, id)| JoinPosition { joined_at, id });
            let mut counts: HashMap<Id, usize> = HashMap::new();
            let mut previous_index: Option<usize> = None;
            for _ in 0..k {
                let chosen = choose_round_robin(&candidates, cursor).expect("a candidate exists");
                let index = sorted.iter().position(|p| *p == chosen).expect("chosen is a candidate");
                if let Some(prev) = previous_index {
                    prop_assert_eq!(index, (prev + 1) % n, "rotation skipped someone");
                }
                previous_index = Some(index);
                *counts.entry(chosen.id).or_default() += 1;
                cursor = Some(chosen);
            }
            for p in &candidates {
                let got = counts.get(&p.id).copied().unwrap_or(0);
                prop_assert!(got == k / n || got == k.div_ceil(n), "{} got {} of {} over {}", p.id, got, k, n);
            }
        }

        #[test]
        fn round_robin_continues_after_the_cursor_even_if_it_left(
            candidates in positions(),
            cursor in (0i64..6, 0i64..1001),
        ) {
            let cursor = JoinPosition { joined_at: cursor.0, id: cursor.1 };
            let chosen = choose_round_robin(&candidates, Some(cursor)).unwrap();
            let later: Vec<_> = candidates.iter().filter(|p| **p > cursor).collect();
            if later.is_empty() {
                prop_assert_eq!(Some(&chosen), candidates.iter().min(), "wraps to the first");
            } else {
                prop_assert!(chosen > cursor);
                prop_assert!(later.iter().all(|p| **p >= chosen), "nobody between cursor and choice");
            }
        }

        #[test]
        fn lightest_load_picks_a_minimum_with_the_documented_tie_breaks(
            team in proptest::collection::vec((0u64..4, proptest::option::of(0i64..4)), 1..10),
            rotate in 0usize..10,
        ) {
            let team: Vec<Teammate> = team.iter().enumerate()
                .map(|(i, (load, last))| teammate(i as Id + 1, true, *load, *last))
                .collect();
            let refs: Vec<&Teammate> = team.iter().collect();
            let chosen = choose_lightest_load(&refs).unwrap();
            let min_load = team.iter().map(|t| t.load).min().unwrap();
            prop_assert_eq!(chosen.load, min_load);
            let tied: Vec<_> = team.iter().filter(|t| t.load == min_load).collect();
            let oldest = tied.iter().map(|t| t.last_assigned_at).min().unwrap();
            prop_assert_eq!(chosen.last_assigned_at, oldest, "least recently assigned wins");
            let lowest_id = tied.iter().filter(|t| t.last_assigned_at == oldest).map(|t| t.id()).min().unwrap();
            prop_assert_eq!(chosen.id(), lowest_id);

            let mut shuffled = refs.clone();
            shuffled.rotate_left(rotate % refs.len());
            shuffled.reverse();
            prop_assert_eq!(choose_lightest_load(&shuffled).unwrap().id(), chosen.id(), "order-independent");
        }

        #[test]
        fn lightest_load_keeps_a_team_level(n in 1usize..8, k in 0usize..50) {
            let mut team: Vec<Teammate> = (1..=n as Id).map(|id| teammate(id, true, 0, None)).collect();
            for t in 0..k {
                let refs: Vec<&Teammate> = team.iter().collect();
                let id = choose_lightest_load(&refs).unwrap().id();
                let chosen = team.iter_mut().find(|m| m.id() == id).unwrap();
                chosen.load += 1;
                chosen.last_assigned_at = Some(t as Millis);
            }
            let max = team.iter().map(|t| t.load).max().unwrap();
            let min = team.iter().map(|t| t.load).min().unwrap();
            prop_assert!(max - min <= 1);
        }

        #[test]
        fn routing_only_chooses_active_available_eligible_teammates(
            team in proptest::collection::vec((any::<bool>(), any::<bool>(), 0u64..3), 0..8),
            eligible_mask in proptest::collection::vec(any::<bool>(), 8),
            lightest in any::<bool>(),
        ) {
            let team: Vec<Teammate> = team.iter().enumerate()
                .map(|(i, (active, available, load))| Teammate {
                    active: *active,
                    ..teammate(i as Id + 1, *available, *load, None)
                })
                .collect();
            let eligible: Vec<Id> = eligible_mask.iter().enumerate()
                .filter(|(_, on)| **on).map(|(i, _)| i as Id + 1).collect();
            let mode = if lightest { RoutingMode::LightestLoad } else { RoutingMode::RoundRobin };
            let decision = route(mode, &team, &eligible, None);
            let allowed: Vec<Id> = team.iter()
                .filter(|t| t.active && t.availability == Availability::Available)
                .filter(|t| eligible.is_empty() || eligible.contains(&t.id()))
                .map(Teammate::id).collect();
            match decision {
                Decision::Assign { operator_id, .. } => prop_assert!(allowed.contains(&operator_id)),
                Decision::Wait(reason) => {
                    prop_assert!(allowed.is_empty());
                    prop_assert_eq!(reason, WaitingReason::NoAvailableOperator);
                }
            }
            prop_assert_eq!(decision, route(mode, &team, &eligible, None), "deterministic");
        }
    }

    #[test]
    fn manual_mode_always_waits() {
        let team = [teammate(1, true, 0, None)];
        assert_eq!(
            route(RoutingMode::Manual, &team, &[], None),
            Decision::Wait(WaitingReason::ManualMode)
        );
    }

    #[test]
    fn round_robin_skips_away_and_resumes_from_the_cursor() {
        let mut team: Vec<Teammate> = (1..=3).map(|id| teammate(id, true, 0, None)).collect();
        let next =
            |team: &[Teammate], cursor| match route(RoutingMode::RoundRobin, team, &[], cursor) {
                Decision::Assign {
                    operator_id,
                    reason,
                } => {
                    assert_eq!(reason, AssignmentReason::RoundRobin);
                    operator_id
                }
                other => panic!("expected an assignment, got {other:?}"),
            };
        let at = |id| Some(JoinPosition { joined_at: 0, id });
        assert_eq!(next(&team, None), 1);
        team[1].availability = Availability::Away;
        assert_eq!(next(&team, at(1)), 3, "2 is away");
        assert_eq!(next(&team, at(3)), 1, "wraps");
        team[1].availability = Availability::Available;
        assert_eq!(next(&team, at(1)), 2, "2 is back in rotation");
    }
}
