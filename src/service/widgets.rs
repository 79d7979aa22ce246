//! Widgets and their routing settings.

use super::assignment::decide;
use super::effects::Effects;
use super::tokens::{new_secret, new_token};
use super::{Service, ServiceError, ServiceResult, validate};
use crate::domain::routing::Decision;
use crate::domain::{Id, RoutingMode};
use crate::store::widgets::Article;
use crate::store::{Operator, WidgetWithRouting, operators, timers, widgets};
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
        let widget = widgets::insert(
            tx.conn(),
            caller.workspace_id,
            &name,
            &key,
            &new_secret(),
            now_millis(),
        )
        .await?;
        tx.commit().await?;
        Ok(WidgetWithRouting {
            widget,
            eligible_operator_ids: Vec::new(),
        })
    }

    pub async fn list_widgets(&self, caller: &Operator) -> ServiceResult<Vec<WidgetWithRouting>> {
        Ok(widgets::list(&mut self.store.read().await?, caller.workspace_id).await?)
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
    /// no decision mixes old and new settings. New settings may give queued chats a
    /// candidate, so the queue drains; a new auto-close time applies to the open chats at once.
    pub async fn set_routing(
        &self,
        caller: &Operator,
        widget_id: Id,
        change: RoutingChange<'_>,
    ) -> ServiceResult<WidgetWithRouting> {
        self.require_manager_of(caller, widget_id, None, "change routing")
            .await?;
        let short = self.settings.allow_short_timers;
        let reassign = change
            .reassign_after_secs
            .map(|v| validate::timer_secs("reassign_after_secs", v, validate::REASSIGN_SECS, short))
            .transpose()?;
        let auto_close = change
            .auto_close_after_secs
            .map(|v| {
                validate::timer_secs("auto_close_after_secs", v, validate::AUTO_CLOSE_SECS, short)
            })
            .transpose()?;
        let mode = change.mode;
        let mut eligible = change.eligible_operator_ids.to_vec();
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
        let reassign = reassign.unwrap_or(widget.reassign_after_secs);
        let auto_close = auto_close.unwrap_or(widget.auto_close_after_secs);
        widgets::set_timers(tx.conn(), widget.id, reassign, auto_close).await?;
        let mut effects = Effects::new(now_millis());
        if auto_close != widget.auto_close_after_secs {
            match auto_close {
                Some(after) => {
                    timers::arm_auto_close_of_widget(tx.conn(), widget.id, after).await?;
                    effects.timers_armed = true;
                }
                None => timers::cancel_auto_close_of_widget(tx.conn(), widget.id).await?,
            }
        }
        let updated = widgets::get(tx.conn(), caller.workspace_id, widget.id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        effects.drain = true;
        self.commit(tx, effects).await?;
        Ok(WidgetWithRouting {
            widget: updated,
            eligible_operator_ids: eligible,
        })
    }

    /// What routing would do with the widget's next chat now (SPEC 10, "Who is next"), without
    /// changing anything: the same pure decision a handover makes, on the same inputs. Any
    /// operator of the workspace may ask.
    pub async fn routing_preview(
        &self,
        caller: &Operator,
        widget_id: Id,
    ) -> ServiceResult<Decision> {
        let mut conn = self.store.read().await?;
        Ok(decide(&mut conn, caller.workspace_id, widget_id, &[])
            .await?
            .0)
    }
}

/// New routing settings for a widget. A timer left `None` stays as it is; `Some(None)` turns it
/// off.
pub struct RoutingChange<'a> {
    pub mode: RoutingMode,
    pub eligible_operator_ids: &'a [Id],
    pub reassign_after_secs: Option<Option<i64>>,
    pub auto_close_after_secs: Option<Option<i64>>,
}

/// A change to a widget's profile: each field given replaces the stored one.
pub struct WidgetChange<'a> {
    pub name: Option<&'a str>,
    /// `Some(None)` puts the default greeting back.
    pub greeting: Option<Option<&'a str>>,
}

impl Service {
    /// Renames the widget or changes its greeting (owner/admin).
    pub async fn update_widget(
        &self,
        caller: &Operator,
        widget_id: Id,
        change: WidgetChange<'_>,
    ) -> ServiceResult<WidgetWithRouting> {
        self.require_manager_of(caller, widget_id, None, "change a widget")
            .await?;
        let name = change.name.map(|n| validate::name("name", n)).transpose()?;
        let greeting = match change.greeting {
            Some(Some(text)) => Some(Some(validate::greeting(text)?)),
            Some(None) => Some(None),
            None => None,
        };
        let mut tx = self.store.write().await?;
        let widget = widgets::get(tx.conn(), caller.workspace_id, widget_id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        if let Some(name) = &name {
            widgets::set_name(tx.conn(), widget.id, name).await?;
        }
        if let Some(greeting) = &greeting {
            widgets::set_greeting(tx.conn(), widget.id, greeting.as_deref()).await?;
        }
        let updated = widgets::get(tx.conn(), caller.workspace_id, widget.id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        let with_routing = widgets::with_routing(tx.conn(), updated).await?;
        tx.commit().await?;
        Ok(with_routing)
    }
}

impl Service {
    /// For changes to one widget, or to one of its articles: another workspace's widget, or
    /// an article that is not this widget's, is a 404 whoever asks, before the caller's role is
    /// considered.
    async fn require_manager_of(
        &self,
        caller: &Operator,
        widget_id: Id,
        article_id: Option<Id>,
        what: &str,
    ) -> ServiceResult<()> {
        let mut conn = self.store.read().await?;
        let widget = widgets::get(&mut conn, caller.workspace_id, widget_id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        if let Some(article_id) = article_id
            && !widgets::has_article(&mut conn, widget.id, article_id).await?
        {
            return Err(ServiceError::NotFound("article"));
        }
        require_manager(caller, what)
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

/// Longest knowledge-base question and answer, in characters.
const MAX_QUESTION_CHARS: usize = 500;
const MAX_ANSWER_CHARS: usize = 5_000;

impl Service {
    /// Whether a page at `origin` may use the widget with this key; `None` for an unknown key.
    pub async fn widget_allows_origin(
        &self,
        key: &str,
        origin: &str,
    ) -> ServiceResult<Option<bool>> {
        let widget = widgets::by_key(&mut self.store.read().await?, key).await?;
        Ok(widget.map(|w| w.allows_origin(origin)))
    }

    /// Replaces the origins the widget may be embedded on (`https://shop.example`, with a port
    /// when not the default); empty allows any.
    pub async fn set_allowed_origins(
        &self,
        caller: &Operator,
        widget_id: Id,
        origins: &[String],
    ) -> ServiceResult<WidgetWithRouting> {
        self.require_manager_of(caller, widget_id, None, "change a widget")
            .await?;
        let mut cleaned = Vec::new();
        for origin in origins {
            let origin = normalise_origin(origin).ok_or_else(|| {
                ServiceError::invalid(
                    "invalid_origin",
                    format!("{origin:?} is not an origin like https://shop.example or http://localhost:3000"),
                )
            })?;
            if !cleaned.contains(&origin) {
                cleaned.push(origin);
            }
        }
        let mut tx = self.store.write().await?;
        let widget = widgets::get(tx.conn(), caller.workspace_id, widget_id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        widgets::set_allowed_origins(tx.conn(), widget.id, &cleaned).await?;
        let updated = widgets::get(tx.conn(), caller.workspace_id, widget.id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        let with_routing = widgets::with_routing(tx.conn(), updated).await?;
        tx.commit().await?;
        Ok(with_routing)
    }

    pub async fn articles(&self, caller: &Operator, widget_id: Id) -> ServiceResult<Vec<Article>> {
        let mut conn = self.store.read().await?;
        let widget = widgets::get(&mut conn, caller.workspace_id, widget_id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        Ok(widgets::articles(&mut conn, widget.id).await?)
    }

    /// Adds (`article_id` None) or replaces a knowledge-base article (owner/admin).
    pub async fn save_article(
        &self,
        caller: &Operator,
        widget_id: Id,
        article_id: Option<Id>,
        question: &str,
        answer: &str,
    ) -> ServiceResult<Article> {
        self.require_manager_of(caller, widget_id, article_id, "edit the knowledge base")
            .await?;
        let question = bounded_text("question", question, MAX_QUESTION_CHARS)?;
        let answer = bounded_text("answer", answer, MAX_ANSWER_CHARS)?;
        let mut tx = self.store.write().await?;
        let widget = widgets::get(tx.conn(), caller.workspace_id, widget_id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        let article = match article_id {
            None => {
                widgets::insert_article(tx.conn(), widget.id, &question, &answer, now_millis())
                    .await?
            }
            Some(id) => widgets::update_article(tx.conn(), widget.id, id, &question, &answer)
                .await?
                .ok_or(ServiceError::NotFound("article"))?,
        };
        tx.commit().await?;
        Ok(article)
    }

    pub async fn delete_article(
        &self,
        caller: &Operator,
        widget_id: Id,
        article_id: Id,
    ) -> ServiceResult<()> {
        self.require_manager_of(
            caller,
            widget_id,
            Some(article_id),
            "edit the knowledge base",
        )
        .await?;
        let mut tx = self.store.write().await?;
        let widget = widgets::get(tx.conn(), caller.workspace_id, widget_id)
            .await?
            .ok_or(ServiceError::NotFound("widget"))?;
        if !widgets::delete_article(tx.conn(), widget.id, article_id).await? {
            return Err(ServiceError::NotFound("article"));
        }
        tx.commit().await?;
        Ok(())
    }
}

fn bounded_text(field: &str, value: &str, max: usize) -> ServiceResult<String> {
    let trimmed = value.trim();
    if validate::is_blank(trimmed) || trimmed.chars().count() > max {
        return Err(ServiceError::invalid(
            "invalid_article",
            format!("{field} must be 1 to {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// `scheme://host[:port]`, lower-cased, without a trailing slash; `None` if it is not one.
fn normalise_origin(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/').to_lowercase();
    let (scheme, host) = origin.split_once("://")?;
    let valid_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    (matches!(scheme, "http" | "https") && valid_host).then_some(origin)
}

#[cfg(test)]
mod tests {
    use super::normalise_origin;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(
            normalise_origin(" https://Shop.Example/ ").as_deref(),
            Some("https://shop.example")
        );
        assert_eq!(
            normalise_origin("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        for bad in [
            "shop.example",
            "ftp://x",
            "https://",
            "https://x/path",
            "https://x?y",
        ] {
            assert_eq!(normalise_origin(bad), None, "{bad}");
        }
    }
}
