//! Operators' roles and presence.

use super::text_enum;

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
}

text_enum!(
    /// Presence: auto-routing only chooses operators who are available.
    Availability, "availability" {
        Available => "available",
        Away => "away",
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
    fn text_round_trips() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), *role);
        }
        assert!("superuser".parse::<Role>().is_err());
    }
}
