//! Pure types and rules: no I/O, no async. Everything here is decided from plain values so it
//! can be property-tested.

pub mod conversation;
pub mod event;
pub mod identity;
pub mod notification;
pub mod operator;
pub mod queue;
pub mod report;
pub mod routing;
pub mod sighting;
pub mod timer;
pub mod user_agent;
pub mod visitor;

pub use conversation::{Author, Status};
pub use operator::{Availability, AvailabilityReason, CAPACITY_RANGE, Role};
pub use routing::{AssignmentReason, RoutingMode, WaitingReason};
pub use timer::TimerKind;

/// An id of any stored row. Ids are database-generated integers, unique per table.
pub type Id = i64;

/// A point in time as milliseconds since the Unix epoch (UTC).
pub type Millis = i64;

/// Why a stored text is not one of a closed set of values. Only a corrupted database or a
/// client sending a value outside the documented set produces one.
#[derive(Debug, thiserror::Error)]
#[error("{value:?} is not a valid {what}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

/// Declares an enum stored and sent as lower-case snake-case text, with `as_str` and `FromStr`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::domain::UnknownValue { what: $what, value: s.to_owned() }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::domain::UnknownValue;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;
