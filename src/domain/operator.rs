//! Operators' roles, presence and capacity, and the rules for changing teammates.

use std::ops::RangeInclusive;

use super::text_enum;

/// The limits an operator's capacity (the most open chats auto-routing may give them) may be
/// set to; no capacity at all means no limit.
pub const CAPACITY_RANGE: RangeInclusive<i64> = 1..=1000;

text_enum!(
    /// What an operator may do in their workspace.
    Role, "role" {
        Owner => "owner",
        Admin => "admin",
        Operator => "operator",
    }
);

impl Role {
    /// Owners and admins manage teammates and widget settings.
    pub fn can_manage(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Whether someone with this role may give a new teammate `new_role`. Only an owner makes
    /// another owner.
    pub fn may_grant(self, new_role: Role) -> bool {
        match self {
            Role::Owner => true,
            Role::Admin => new_role != Role::Owner,
            Role::Operator => false,
        }
    }

    /// Whether someone with this role may change a teammate's role from `from` to `to`: owners
    /// and admins change roles, and only an owner makes or unmakes an owner.
    pub fn may_change_role(self, from: Role, to: Role) -> bool {
        self.can_manage() && (self == Role::Owner || (from != Role::Owner && to != Role::Owner))
    }

    /// Whether someone with this role may deactivate or reactivate a teammate whose role is
    /// `target`: owners and admins may, but only an owner deactivates an owner.
    pub fn may_deactivate(self, target: Role) -> bool {
        self.can_manage() && (self == Role::Owner || target != Role::Owner)
    }
}

/// Whether a teammate is the workspace's last active owner, so that demoting or deactivating
/// them would leave nobody able to manage owners: such a change is refused.
pub fn is_last_owner(role: Role, active: bool, active_owners: u64) -> bool {
    role == Role::Owner && active && active_owners <= 1
}

text_enum!(
    /// Presence: auto-routing only chooses operators who are available.
    Availability, "availability" {
        Available => "available",
        Away => "away",
    }
);

text_enum!(
    /// Why an operator's availability is what it is: they set it (`manual`), or their last
    /// inbox tab closed and none opened again within the grace period (`no_open_tab`).
    AvailabilityReason, "availability reason" {
        Manual => "manual",
        NoOpenTab => "no_open_tab",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_and_admins_manage_and_only_owners_make_owners() {
        assert!(Role::Owner.can_manage() && Role::Admin.can_manage());
        assert!(!Role::Operator.can_manage());
        assert!(Role::Owner.may_grant(Role::Owner));
        assert!(!Role::Admin.may_grant(Role::Owner));
        assert!(Role::Admin.may_grant(Role::Admin) && Role::Admin.may_grant(Role::Operator));
        assert!(!Role::Operator.may_grant(Role::Operator));
    }

    #[test]
    fn only_owners_make_unmake_and_deactivate_owners() {
        use Role::*;
        for (from, to) in [(Operator, Admin), (Admin, Operator), (Admin, Admin)] {
            assert!(Owner.may_change_role(from, to) && Admin.may_change_role(from, to));
            assert!(!Operator.may_change_role(from, to));
        }
        for (from, to) in [
            (Operator, Owner),
            (Admin, Owner),
            (Owner, Admin),
            (Owner, Owner),
        ] {
            assert!(Owner.may_change_role(from, to), "{from} to {to}");
            assert!(!Admin.may_change_role(from, to), "{from} to {to}");
        }
        assert!(Owner.may_deactivate(Owner) && Owner.may_deactivate(Operator));
        assert!(!Admin.may_deactivate(Owner));
        assert!(Admin.may_deactivate(Admin) && Admin.may_deactivate(Operator));
        assert!(!Operator.may_deactivate(Operator));
    }

    #[test]
    fn the_last_active_owner_is_kept() {
        assert!(is_last_owner(Role::Owner, true, 1));
        assert!(!is_last_owner(Role::Owner, true, 2));
        assert!(
            !is_last_owner(Role::Owner, false, 1),
            "a deactivated owner is not the one that counts"
        );
        assert!(!is_last_owner(Role::Admin, true, 1));
    }

    #[test]
    fn text_round_trips() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), *role);
        }
        assert!("superuser".parse::<Role>().is_err());
    }
}
