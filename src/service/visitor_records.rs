//! What operators read about a visitor: their record and their conversations.

use std::collections::HashMap;

use super::{Service, ServiceError, ServiceResult};
use crate::domain::Id;
use crate::store::{Conversation, Operator, Visitor, conversations as convs, operators, visitors};

pub struct VisitorDetail {
    pub visitor: Visitor,
    /// Newest activity first, each with its assignee.
    pub conversations: Vec<(Conversation, Option<Operator>)>,
}

impl Service {
    /// Any operator of the workspace reads any of its visitors; another workspace's is a 404.
    pub async fn get_visitor(&self, caller: &Operator, id: Id) -> ServiceResult<VisitorDetail> {
        let mut conn = self.store.read().await?;
        let visitor = visitors::get(&mut conn, caller.workspace_id, id)
            .await?
            .ok_or(ServiceError::NotFound("visitor"))?;
        let team: HashMap<Id, Operator> =
            operators::list_with_loads(&mut conn, caller.workspace_id)
                .await?
                .into_iter()
                .map(|o| (o.operator.id, o.operator))
                .collect();
        let conversations = convs::of_visitor(&mut conn, visitor.id)
            .await?
            .into_iter()
            .map(|c| {
                let assignee = c.assignee_id.and_then(|a| team.get(&a).cloned());
                (c, assignee)
            })
            .collect();
        Ok(VisitorDetail {
            visitor,
            conversations,
        })
    }
}
