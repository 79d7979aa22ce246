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
        Unanswered => "unanswered",
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

impl JoinPosition {
    /// The position stored as two nullable columns (a widget's cursor): none unless both are set.
    pub fn of(joined_at: Option<Millis>, id: Option<Id>) -> Option<JoinPosition> {
        Some(JoinPosition {
            joined_at: joined_at?,
            id: id?,
        })
    }
}

/// What routing needs to know about one member of the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Teammate {
    pub position: JoinPosition,
    /// For the decision's rule in words ("next after Ben in join order").
    pub name: String,
    /// False while deactivated: they stay in the join order but are never chosen.
    pub active: bool,
    pub availability: Availability,
    /// Conversations assigned to them whose status is `active` or `handed_off`.
    pub load: u64,
    /// The most open chats auto-routing may give them; None = no limit.
    pub capacity: Option<u64>,
    pub last_assigned_at: Option<Millis>,
}

impl Teammate {
    pub fn id(&self) -> Id {
        self.position.id
    }

    /// Whether auto-routing may give them one more chat: below their capacity, if they have one.
    pub fn has_room(&self) -> bool {
        self.capacity.is_none_or(|c| self.load < c)
    }
}

/// A widget's routing settings, as one decision reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetRouting {
    pub widget_id: Id,
    pub mode: RoutingMode,
    /// Empty = everyone.
    pub eligible: Vec<Id>,
    pub cursor: Option<JoinPosition>,
}

text_enum!(
    /// Why a teammate was no candidate for a decision.
    Exclusion, "exclusion" {
        Away => "away",
        AtCapacity => "at_capacity",
        NotEligible => "not_eligible",
        AlreadyGiven => "already_given",
    }
);

/// A candidate as the decision saw them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Candidate {
    pub operator_id: Id,
    pub load: u64,
    pub capacity: Option<u64>,
    pub last_assigned_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Excluded {
    pub operator_id: Id,
    pub why: Exclusion,
}

/// One routing decision and everything it was made from (SPEC 10, "Why this operator"). It is
/// stored with the assignment it caused, as made: never recomputed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    pub mode: RoutingMode,
    /// None: nobody gets the chat, it waits.
    pub chosen_operator_id: Option<Id>,
    /// What decided, in words.
    pub rule: String,
    /// In join order.
    pub candidates: Vec<Candidate>,
    /// In join order; deactivated teammates are left out, as they are no longer in the team.
    pub excluded: Vec<Excluded>,
    /// The round-robin cursor: the operator last chosen, before and after this decision.
    pub cursor_before: Option<Id>,
    pub cursor_after: Option<Id>,
}

impl Decision {
    /// Why the chat waits, when nobody was chosen.
    pub fn waiting_reason(&self) -> Option<WaitingReason> {
        match (self.chosen_operator_id, self.mode) {
            (Some(_), _) => None,
            (None, RoutingMode::Manual) => Some(WaitingReason::ManualMode),
            (None, _) => Some(WaitingReason::NoAvailableOperator),
        }
    }

    /// The reason an assignment made by this decision records: the widget's mode.
    pub fn reason(&self) -> AssignmentReason {
        match self.mode {
            RoutingMode::RoundRobin => AssignmentReason::RoundRobin,
            _ => AssignmentReason::LightestLoad,
        }
    }
}

/// Why `t` cannot be chosen for this widget now, if they cannot.
fn exclusion(t: &Teammate, eligible: &[Id], already_given: &[Id]) -> Option<Exclusion> {
    if !eligible.is_empty() && !eligible.contains(&t.id()) {
        Some(Exclusion::NotEligible)
    } else if already_given.contains(&t.id()) {
        Some(Exclusion::AlreadyGiven)
    } else if t.availability != Availability::Available {
        Some(Exclusion::Away)
    } else if !t.has_room() {
        Some(Exclusion::AtCapacity)
    } else {
        None
    }
}

/// The candidates of a widget: its eligible teammates (`eligible` empty = everyone) who are
/// active, available, below their capacity and not in `already_given`.
pub fn candidates<'a>(
    team: &'a [Teammate],
    eligible: &[Id],
    already_given: &[Id],
) -> Vec<&'a Teammate> {
    team.iter()
        .filter(|t| t.active && exclusion(t, eligible, already_given).is_none())
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

/// Routes one conversation that needs a human and has no assignee (or is moving away from
/// one): the widget's mode among its candidates, `already_given` left out (SPEC 9, unanswered
/// chats). Returns the whole decision, with the rule that made it in words.
pub fn route(widget: &WidgetRouting, team: &[Teammate], already_given: &[Id]) -> Decision {
    let candidates = candidates(team, &widget.eligible, already_given);
    let excluded = team
        .iter()
        .filter(|t| t.active)
        .filter_map(|t| {
            exclusion(t, &widget.eligible, already_given).map(|why| Excluded {
                operator_id: t.id(),
                why,
            })
        })
        .collect();
    let cursor_before = widget.cursor.map(|c| c.id);
    let (chosen, rule) = match widget.mode {
        RoutingMode::Manual => (
            None,
            "manual mode: it waits until someone claims it".to_owned(),
        ),
        RoutingMode::RoundRobin => {
            let positions: Vec<JoinPosition> = candidates.iter().map(|t| t.position).collect();
            let chosen = choose_round_robin(&positions, widget.cursor)
                .and_then(|p| candidates.iter().find(|t| t.position == p).copied());
            (chosen, round_robin_rule(chosen, widget.cursor, team))
        }
        RoutingMode::LightestLoad => {
            let chosen = choose_lightest_load(&candidates);
            (chosen, lightest_load_rule(chosen, &candidates))
        }
    };
    let cursor_after = match (widget.mode, chosen) {
        (RoutingMode::RoundRobin, Some(t)) => Some(t.id()),
        _ => cursor_before,
    };
    Decision {
        mode: widget.mode,
        chosen_operator_id: chosen.map(Teammate::id),
        rule,
        candidates: candidates
            .iter()
            .map(|t| Candidate {
                operator_id: t.id(),
                load: t.load,
                capacity: t.capacity,
                last_assigned_at: t.last_assigned_at,
            })
            .collect(),
        excluded,
        cursor_before,
        cursor_after,
    }
}

const NOBODY: &str =
    "no candidate: every eligible teammate is away, at capacity or was already given it";

fn round_robin_rule(
    chosen: Option<&Teammate>,
    cursor: Option<JoinPosition>,
    team: &[Teammate],
) -> String {
    if chosen.is_none() {
        return NOBODY.to_owned();
    }
    match cursor {
        None => "first in join order".to_owned(),
        Some(c) => match team.iter().find(|t| t.position == c) {
            Some(last) => format!("next after {} in join order", last.name),
            None => "next in join order after the teammate last chosen".to_owned(),
        },
    }
}

fn lightest_load_rule(chosen: Option<&Teammate>, candidates: &[&Teammate]) -> String {
    let Some(chosen) = chosen else {
        return NOBODY.to_owned();
    };
    let tied_on_load: Vec<&&Teammate> = candidates
        .iter()
        .filter(|t| t.load == chosen.load)
        .collect();
    if tied_on_load.len() == 1 {
        return format!("fewest open chats ({})", chosen.load);
    }
    let tied_on_last = tied_on_load
        .iter()
        .filter(|t| t.last_assigned_at == chosen.last_assigned_at)
        .count();
    if tied_on_last == 1 {
        "tie on load: longest since last assignment".to_owned()
    } else {
        "tie on load and last assignment: lowest id".to_owned()
    }
}

/// A chat waiting in the workspace's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedChat {
    pub conversation_id: Id,
    pub widget_id: Id,
    pub queued_at: Millis,
}

/// Drains a queue (SPEC 9): the chats are routed oldest `queued_at` first (then lowest id), each
/// by its widget's mode, every decision seeing the loads and cursors the previous ones left in
/// `team` and `widgets`. Returns the chats that got someone, in order, with their decisions;
/// the others stay queued. Stops as soon as nobody in the team could take any chat.
pub fn drain(
    queue: &[QueuedChat],
    widgets: &mut [WidgetRouting],
    team: &mut [Teammate],
    now: Millis,
) -> Vec<(Id, Decision)> {
    let mut order: Vec<&QueuedChat> = queue.iter().collect();
    order.sort_by_key(|c| (c.queued_at, c.conversation_id));
    let mut routed = Vec::new();
    for chat in order {
        if !team
            .iter()
            .any(|t| t.active && t.availability == Availability::Available && t.has_room())
        {
            break;
        }
        let Some(widget) = widgets.iter_mut().find(|w| w.widget_id == chat.widget_id) else {
            continue;
        };
        let decision = route(widget, team, &[]);
        if decision.chosen_operator_id.is_some() {
            apply(&decision, widget, team, now);
            routed.push((chat.conversation_id, decision));
        }
    }
    routed
}

/// What an assignment made by `decision` changes for the next decision: the chosen one's load
/// and last assignment, and the widget's cursor.
pub fn apply(decision: &Decision, widget: &mut WidgetRouting, team: &mut [Teammate], now: Millis) {
    let Some(id) = decision.chosen_operator_id else {
        return;
    };
    if let Some(t) = team.iter_mut().find(|t| t.id() == id) {
        t.load += 1;
        t.last_assigned_at = Some(now);
        if decision.mode == RoutingMode::RoundRobin {
            widget.cursor = Some(t.position);
        }
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
            name: format!("T{id}"),
            active: true,
            availability: if available {
                Availability::Available
            } else {
                Availability::Away
            },
            load,
            capacity: None,
            last_assigned_at: last,
        }
    }

    fn widget(mode: RoutingMode, eligible: &[Id], cursor: Option<Id>) -> WidgetRouting {
        WidgetRouting {
            widget_id: 1,
            mode,
            eligible: eligible.to_vec(),
            cursor: cursor.map(|id| JoinPosition { joined_at: 0, id }),
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
        fn routing_only_chooses_active_available_eligible_teammates_with_room(
            team in proptest::collection::vec((any::<bool>(), any::<bool>(), 0u64..4, proptest::option::of(1u64..4)), 0..8),
            eligible_mask in proptest::collection::vec(any::<bool>(), 8),
            given_mask in proptest::collection::vec(any::<bool>(), 8),
            lightest in any::<bool>(),
        ) {
            let team: Vec<Teammate> = team.iter().enumerate()
                .map(|(i, (active, available, load, capacity))| Teammate {
                    active: *active,
                    capacity: *capacity,
                    ..teammate(i as Id + 1, *available, *load, None)
                })
                .collect();
            let pick = |mask: &[bool]| -> Vec<Id> { mask.iter().enumerate()
                .filter(|(_, on)| **on).map(|(i, _)| i as Id + 1).collect() };
            let eligible = pick(&eligible_mask);
            let given = pick(&given_mask);
            let mode = if lightest { RoutingMode::LightestLoad } else { RoutingMode::RoundRobin };
            let w = widget(mode, &eligible, None);
            let decision = route(&w, &team, &given);
            let allowed: Vec<Id> = team.iter()
                .filter(|t| t.active && t.availability == Availability::Available)
                .filter(|t| eligible.is_empty() || eligible.contains(&t.id()))
                .filter(|t| !given.contains(&t.id()))
                .filter(|t| t.capacity.is_none_or(|c| t.load < c))
                .map(Teammate::id).collect();
            match decision.chosen_operator_id {
                Some(id) => prop_assert!(allowed.contains(&id)),
                None => {
                    prop_assert!(allowed.is_empty());
                    prop_assert_eq!(decision.waiting_reason(), Some(WaitingReason::NoAvailableOperator));
                }
            }
            let listed: Vec<Id> = decision.candidates.iter().map(|c| c.operator_id).collect();
            prop_assert_eq!(&listed, &allowed, "the candidates are exactly the allowed");
            let active = team.iter().filter(|t| t.active).count();
            prop_assert_eq!(decision.candidates.len() + decision.excluded.len(), active,
                "every active teammate is a candidate or excluded, once");
            for e in &decision.excluded {
                if given.contains(&e.operator_id) && (eligible.is_empty() || eligible.contains(&e.operator_id)) {
                    prop_assert_eq!(e.why, Exclusion::AlreadyGiven);
                }
            }
            prop_assert_eq!(&decision, &route(&w, &team, &given), "deterministic");
        }

        #[test]
        fn a_drain_goes_oldest_first_and_fills_nobody_beyond_capacity(
            capacities in proptest::collection::vec(proptest::option::of(0u64..4), 1..6),
            queue in proptest::collection::vec((0i64..50, 1i64..3), 0..30),
            lightest in any::<bool>(),
        ) {
            let mut team: Vec<Teammate> = capacities.iter().enumerate()
                .map(|(i, capacity)| Teammate { capacity: *capacity, ..teammate(i as Id + 1, true, 0, None) })
                .collect();
            let mode = if lightest { RoutingMode::LightestLoad } else { RoutingMode::RoundRobin };
            let mut widgets = vec![
                WidgetRouting { widget_id: 1, ..widget(mode, &[], None) },
                WidgetRouting { widget_id: 2, ..widget(mode, &[1], None) },
            ];
            let queue: Vec<QueuedChat> = queue.iter().enumerate()
                .map(|(i, (queued_at, widget_id))| QueuedChat { conversation_id: i as Id + 1, widget_id: *widget_id, queued_at: *queued_at })
                .collect();
            let routed = drain(&queue, &mut widgets, &mut team, 100);
            for t in &team {
                prop_assert!(t.capacity.is_none_or(|c| t.load <= c), "{} over capacity", t.id());
            }
            let total: u64 = team.iter().map(|t| t.load).sum();
            prop_assert_eq!(total as usize, routed.len(), "each routed chat counted once");
            let key = |id: Id| queue.iter().find(|c| c.conversation_id == id).map(|c| (c.queued_at, c.conversation_id)).unwrap();
            for pair in routed.windows(2) {
                prop_assert!(key(pair[0].0) < key(pair[1].0), "oldest first");
            }
            // A chat of the everyone-widget left waiting means nobody had room when it came up,
            // so no later chat of it was routed.
            let waiting_all: Vec<_> = queue.iter().filter(|c| c.widget_id == 1)
                .filter(|c| !routed.iter().any(|(id, _)| *id == c.conversation_id)).collect();
            if let Some(first_left) = waiting_all.iter().map(|c| (c.queued_at, c.conversation_id)).min() {
                prop_assert!(routed.iter().all(|(id, _)| key(*id) < first_left));
            }
        }
    }

    fn chosen(d: &Decision) -> Id {
        d.chosen_operator_id.expect("someone is chosen")
    }

    #[test]
    fn manual_mode_always_waits() {
        let team = [teammate(1, true, 0, None)];
        let d = route(&widget(RoutingMode::Manual, &[], None), &team, &[]);
        assert_eq!(d.chosen_operator_id, None);
        assert_eq!(d.waiting_reason(), Some(WaitingReason::ManualMode));
    }

    #[test]
    fn round_robin_skips_away_and_resumes_from_the_cursor() {
        let mut team: Vec<Teammate> = (1..=3).map(|id| teammate(id, true, 0, None)).collect();
        let next = |team: &[Teammate], cursor| {
            let d = route(&widget(RoutingMode::RoundRobin, &[], cursor), team, &[]);
            assert_eq!(d.reason(), AssignmentReason::RoundRobin);
            assert_eq!(d.cursor_before, cursor);
            assert_eq!(d.cursor_after, d.chosen_operator_id);
            chosen(&d)
        };
        assert_eq!(next(&team, None), 1);
        team[1].availability = Availability::Away;
        assert_eq!(next(&team, Some(1)), 3, "2 is away");
        assert_eq!(next(&team, Some(3)), 1, "wraps");
        team[1].availability = Availability::Available;
        assert_eq!(next(&team, Some(1)), 2, "2 is back in rotation");
    }

    #[test]
    fn the_rule_says_what_decided() {
        let mut team: Vec<Teammate> = (1..=3).map(|id| teammate(id, true, 0, None)).collect();
        team[0].name = "Ben".into();
        let rr = |cursor| route(&widget(RoutingMode::RoundRobin, &[], cursor), &team, &[]).rule;
        assert_eq!(rr(Some(1)), "next after Ben in join order");
        assert_eq!(rr(None), "first in join order");
        assert_eq!(
            rr(Some(99)),
            "next in join order after the teammate last chosen"
        );

        let ll =
            |team: &[Teammate]| route(&widget(RoutingMode::LightestLoad, &[], None), team, &[]);
        team[0].load = 3;
        team[1].load = 2;
        team[2].load = 5;
        let d = ll(&team);
        assert_eq!((chosen(&d), d.rule.as_str()), (2, "fewest open chats (2)"));
        team[2].load = 2;
        team[1].last_assigned_at = Some(50);
        team[2].last_assigned_at = Some(10);
        let d = ll(&team);
        assert_eq!(
            (chosen(&d), d.rule.as_str()),
            (3, "tie on load: longest since last assignment")
        );
        team[1].last_assigned_at = Some(10);
        let d = ll(&team);
        assert_eq!(
            (chosen(&d), d.rule.as_str()),
            (2, "tie on load and last assignment: lowest id")
        );

        let away: Vec<Teammate> = (1..=2).map(|id| teammate(id, false, 0, None)).collect();
        let d = ll(&away);
        assert_eq!(d.chosen_operator_id, None);
        assert_eq!(d.rule, NOBODY);
    }

    #[test]
    fn exclusions_say_why() {
        let mut team: Vec<Teammate> = (1..=5).map(|id| teammate(id, true, 2, None)).collect();
        team[0].availability = Availability::Away;
        team[1].capacity = Some(2);
        team[3].active = false;
        let d = route(
            &widget(RoutingMode::LightestLoad, &[1, 2, 3, 4], None),
            &team,
            &[3],
        );
        assert_eq!(d.chosen_operator_id, None);
        let why: Vec<(Id, Exclusion)> = d.excluded.iter().map(|e| (e.operator_id, e.why)).collect();
        assert_eq!(
            why,
            [
                (1, Exclusion::Away),
                (2, Exclusion::AtCapacity),
                (3, Exclusion::AlreadyGiven),
                (5, Exclusion::NotEligible),
            ],
            "the deactivated 4 is in neither list"
        );
    }

    #[test]
    fn reassigning_skips_everyone_already_given_it() {
        let team: Vec<Teammate> = (1..=3).map(|id| teammate(id, true, 0, None)).collect();
        let w = widget(RoutingMode::RoundRobin, &[], Some(1));
        assert_eq!(chosen(&route(&w, &team, &[1, 2])), 3);
        assert_eq!(route(&w, &team, &[1, 2, 3]).chosen_operator_id, None);
    }
}
