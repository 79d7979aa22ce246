//! Starting and ending sessions, for every use case that signs someone in or out.

use super::ServiceResult;
use super::effects::Effects;
use super::tokens::{hash_token, new_token};
use crate::domain::event::Event;
use crate::domain::{Id, Millis};
use crate::store::{Operator, WriteTx, sessions};

/// How long a session lasts after sign-in.
pub const SESSION_LIFETIME_MS: Millis = 30 * 24 * 60 * 60 * 1000;

/// Opens a session for the operator in `tx`; returns its token, which is stored only as a hash.
pub(super) async fn start_session(
    tx: &mut WriteTx,
    operator_id: Id,
    now: Millis,
) -> ServiceResult<String> {
    let token = new_token();
    sessions::insert(
        tx.conn(),
        &hash_token(&token),
        operator_id,
        now,
        now + SESSION_LIFETIME_MS,
    )
    .await?;
    Ok(token)
}

/// Ends the operator's sessions, all of them or all but the one whose token is `keep`. Their
/// open streams, on every node, close once this commits: the transaction's `SessionsEnded`
/// event makes each of the operator's streams check its own session.
pub(super) async fn end_sessions(
    tx: &mut WriteTx,
    operator: &Operator,
    keep: Option<&str>,
    effects: &mut Effects,
) -> ServiceResult<()> {
    let keep = keep.map(hash_token);
    let ended = sessions::delete_for_operator(tx.conn(), operator.id, keep.as_deref()).await?;
    if ended > 0 {
        effects
            .events
            .push(Event::sessions_ended(operator, effects.now));
    }
    Ok(())
}
