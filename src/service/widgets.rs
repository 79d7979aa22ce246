//! Widgets and their routing settings.

use super::tokens::new_token;
use super::{Service, ServiceError, ServiceResult, validate};
use crate::domain::{Id, RoutingMode};
use crate::store::{Operator, WidgetWithRouting, operators, widgets};
use crate::timefmt::now_millis;

impl Service {
    pub async fn create_widget(
        &self,
        caller: &Operator,
        name: &str,
    ) -> ServiceResult<WidgetWithRouting> {
        require_manager(caller, "create widgets")?;
        let name = validate::name("name", name)?;
        // The key is public (it sits in every page that embeds the widget); it only needs to
        // be unguessable enough not to collide.
        let key = format!("wk_{}", &new_token()[..24]);
        let mut tx = self.store.write().await?;
        let widget =
            widgets::insert(tx.conn(), caller.workspace_id, &name, &key, now_millis()).await?;
        tx.commit().await?;
        Ok(WidgetWithRouting {
            widget,
            eligible_operator_ids: Vec::new(),
        })
    }

    pub async fn list_widgets(&self, caller: &Operator) -> ServiceResult<Vec<WidgetWithRouting>> {
        Ok(widgets::list(&mut *self.store.read().await?, caller.workspace_id).await?)
    }

    pub async fn get_widget(&self, caller: &Operator, id: Id) -> ServiceResult<WidgetWithRouting> {
        let mut conn = self.store.read().await?;
        let widget = widgets::get(&mut conn, caller.workspace_id, id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        Ok(widgets::with_routing(&mut conn, widget).await?)
    }

    /// Replaces a widget's routing settings. Every eligible id must be an operator of the
    /// caller's workspace (400 otherwise); duplicates are ignored. Serialised with routing so
    /// no decision mixes old and new settings.
    pub async fn set_routing(
        &self,
        caller: &Operator,
        widget_id: Id,
        mode: RoutingMode,
        eligible_operator_ids: &[Id],
    ) -> ServiceResult<WidgetWithRouting> {
        require_manager(caller, "change routing")?;
        let mut eligible = eligible_operator_ids.to_vec();
        eligible.sort_unstable();
        eligible.dedup();

        let mut tx = self.lock_workspace(caller.workspace_id).await?;
        let widget = widgets::get(tx.conn(), caller.workspace_id, widget_id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        let known =
            operators::existing_in_workspace(tx.conn(), caller.workspace_id, &eligible).await?;
        if let Some(unknown) = eligible.iter().find(|id| !known.contains(id)) {
            return Err(ServiceError::invalid(
                "invalid_operator",
                format!("eligible_operator_ids: {unknown} is not an operator of this workspace"),
            ));
        }
        widgets::set_routing(tx.conn(), widget.id, mode, &eligible).await?;
        let updated = widgets::get(tx.conn(), caller.workspace_id, widget.id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        tx.commit().await?;
        Ok(WidgetWithRouting {
            widget: updated,
            eligible_operator_ids: eligible,
        })
    }
}

fn require_manager(caller: &Operator, what: &str) -> ServiceResult<()> {
    if caller.role.can_manage() {
        Ok(())
    } else {
        Err(ServiceError::forbidden(format!(
            "Only an owner or admin can {what}"
        )))
    }
}
