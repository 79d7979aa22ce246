//! Who the visitor is, as the embedding site says: its user id for them, signed with the
//! widget's identity secret (`domain::identity`), and optionally their name and email. A valid
//! signature ties the visitor's token to the one record of that user, so their chats from
//! every browser are together; a wrong one is a 403 and changes nothing.

use super::effects::Effects;
use super::tokens::hash_token;
use super::visitors::record_sighting;
use super::{Service, ServiceError, ServiceResult, validate};
use crate::domain::event::Event;
use crate::domain::identity::user_hash_matches;
use crate::domain::sighting::Sighting;
use crate::store::{Conversation, Visitor, Widget, WriteTx, conversations as convs, visitors};
use crate::timefmt::now_millis;

/// What the site sent, checked for shape (`Identity::new`), not yet for its signature.
#[derive(Debug, Clone)]
pub struct Identity<'a> {
    user_id: &'a str,
    user_hash: &'a str,
    name: Option<String>,
    email: Option<String>,
}

/// The visitor record a token names after identifying, and its chats.
pub struct Identified {
    pub visitor: Visitor,
    pub conversations: Vec<Conversation>,
}

impl<'a> Identity<'a> {
    /// A 400 names what is malformed: the user id, the name or the email.
    pub fn new(
        user_id: &'a str,
        user_hash: &'a str,
        name: Option<&str>,
        email: Option<&str>,
    ) -> ServiceResult<Identity<'a>> {
        Ok(Identity {
            user_id: validate::user_id(user_id)?,
            user_hash,
            name: name
                .map(|n| validate::name("visitor.name", n))
                .transpose()?,
            email: email.map(validate::email).transpose()?,
        })
    }

    /// A 403 unless the hash is the widget's signature of the user id.
    pub(super) fn verify(&self, widget: &Widget) -> ServiceResult<()> {
        if user_hash_matches(&widget.identity_secret, self.user_id, self.user_hash) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden {
                code: "identity_rejected",
                message: "user_hash is not the HMAC-SHA256 of user_id under this widget's identity secret".to_owned(),
            })
        }
    }

    /// Ties the token (its hash) held by `current` to the record of this user, inside the
    /// workspace's locked transaction, and returns that record:
    ///
    /// - the user's record already holds the token: only the name and email may change;
    /// - an anonymous visitor becomes the user's existing record: their chats and tokens move
    ///   to it and the anonymous record is gone (the same person on a second device);
    /// - a visitor identified as someone else hands only this token over: their chats stay
    ///   theirs (another person signed in on a shared browser);
    /// - a user seen for the first time: an anonymous visitor simply becomes them, a visitor
    ///   identified as someone else gives this token to a new record.
    ///
    /// Must be verified first.
    pub(super) async fn apply(
        &self,
        tx: &mut WriteTx,
        widget: &Widget,
        current: Visitor,
        token_hash: &str,
        effects: &mut Effects,
    ) -> ServiceResult<Visitor> {
        let known = visitors::by_external_id(tx.conn(), widget.id, self.user_id).await?;
        let mut merged = None;
        let target = match (known, &current.external_id) {
            (Some(known), _) if known.id == current.id => current.id,
            (Some(known), None) => {
                visitors::merge(tx.conn(), current.id, known.id).await?;
                merged = Some(current.id);
                known.id
            }
            (Some(known), Some(_)) => {
                visitors::assign_token(tx.conn(), token_hash, known.id, effects.now).await?;
                known.id
            }
            (None, None) => current.id,
            (None, Some(_)) => {
                let fresh =
                    visitors::insert(tx.conn(), widget.id, &Sighting::default(), effects.now)
                        .await?;
                visitors::assign_token(tx.conn(), token_hash, fresh.id, effects.now).await?;
                fresh.id
            }
        };
        visitors::set_identity(
            tx.conn(),
            target,
            self.user_id,
            self.name.as_deref(),
            self.email.as_deref(),
        )
        .await?;
        effects.events.push(Event::visitor_updated(
            widget.workspace_id,
            target,
            merged,
            effects.now,
        ));
        visitors::get(tx.conn(), widget.workspace_id, target)
            .await?
            .ok_or(ServiceError::NotFound("visitor"))
    }
}

impl Service {
    /// `POST /widget/{key}/identify`: identifies the visitor holding `visitor_token` (see
    /// `Identity::apply`). An unknown token is a 401, a wrong hash a 403; either changes
    /// nothing. Serialised with the workspace's other changes, so two devices identifying as
    /// one user at once end up on one record.
    pub async fn identify(
        &self,
        widget_key: &str,
        visitor_token: &str,
        identity: &Identity<'_>,
        sighting: &Sighting,
    ) -> ServiceResult<Identified> {
        let (widget, _) = self.visitor_by_token(widget_key, visitor_token).await?;
        identity.verify(&widget)?;
        let now = now_millis();
        let mut effects = Effects::new(now);
        let token_hash = hash_token(visitor_token);
        let mut tx = self.lock_workspace(widget.workspace_id).await?;
        // Read again under the lock: the token may have moved meanwhile.
        let current = visitors::by_token(tx.conn(), widget.id, &token_hash)
            .await?
            .ok_or(super::visitors::unknown_token())?;
        let visitor = identity
            .apply(&mut tx, &widget, current, &token_hash, &mut effects)
            .await?;
        record_sighting(&mut tx, &visitor, sighting, now).await?;
        let conversations = convs::of_visitor(tx.conn(), visitor.id).await?;
        self.commit(tx, effects).await?;
        Ok(Identified {
            visitor,
            conversations,
        })
    }
}
