//! What an "assigned to you" notification says, per channel. Visitor text is escaped in HTML
//! and sent as plain data everywhere else.

use serde::{Deserialize, Serialize};

use super::email::Mail;
use crate::domain::{AssignmentReason, Id, Millis};

/// Everything a notification needs, captured when the assignment commits (it is the outbox
/// row's payload).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub conversation_id: Id,
    pub recipient_name: String,
    pub recipient_email: String,
    pub visitor_label: String,
    pub widget_name: String,
    /// The visitor's latest message, as they wrote it.
    pub preview: String,
    /// `{public_url}/inbox/conversations/{id}`
    pub link: String,
    pub reason: AssignmentReason,
    /// For an email that waited (`email_delay_secs`): not sent if the recipient opened the
    /// chat at or after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unless_opened_since: Option<Millis>,
}

impl Notice {
    pub fn title(&self) -> String {
        format!(
            "{} on {} is assigned to you",
            self.visitor_label, self.widget_name
        )
    }

    fn why(&self) -> &'static str {
        match self.reason {
            AssignmentReason::RoundRobin => "Round-robin routing picked you.",
            AssignmentReason::LightestLoad => "You had the lightest load.",
            _ => "A teammate assigned it to you.",
        }
    }

    pub fn email_text(&self) -> String {
        format!(
            "Hi {name},\n\n{title}. {why}\n\nLatest message:\n\n    {preview}\n\nOpen the conversation: {link}\n",
            name = self.recipient_name,
            title = self.title(),
            why = self.why(),
            preview = self.preview.replace('\n', "\n    "),
            link = self.link,
        )
    }

    pub fn email_html(&self) -> String {
        format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\">\
             <p>Hi {name},</p><p><strong>{title}</strong>. {why}</p>\
             <blockquote style=\"white-space:pre-wrap;border-left:3px solid #ccc;padding-left:8px\">{preview}</blockquote>\
             <p><a href=\"{link}\">Open the conversation</a></p></body></html>",
            name = escape_html(&self.recipient_name),
            title = escape_html(&self.title()),
            why = self.why(),
            preview = escape_html(&self.preview),
            link = escape_html(&self.link),
        )
    }

    /// The email to the recipient.
    pub fn email(&self) -> Mail {
        Mail {
            to: self.recipient_email.clone(),
            subject: self.title(),
            text: self.email_text(),
            html: Some(self.email_html()),
        }
    }

    /// The JSON the service worker shows: `{title, body, url, conversation_id}`.
    pub fn push_payload(&self) -> Vec<u8> {
        let body: String = self.preview.chars().take(200).collect();
        serde_json::to_vec(&serde_json::json!({
            "title": self.title(),
            "body": body,
            "url": self.link,
            "conversation_id": self.conversation_id,
        }))
        .unwrap_or_default()
    }
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(preview: &str) -> Notice {
        Notice {
            conversation_id: 7,
            recipient_name: "Bob".into(),
            recipient_email: "bob@acme.test".into(),
            visitor_label: "Visitor #3".into(),
            widget_name: "Website".into(),
            preview: preview.into(),
            link: "https://desk.acme.test/inbox/conversations/7".into(),
            reason: AssignmentReason::RoundRobin,
            unless_opened_since: None,
        }
    }

    #[test]
    fn html_email_escapes_visitor_text_and_links_to_the_chat() {
        let n = notice("<script>alert('x')</script> & <img src=x onerror=y>");
        let html = n.email_html();
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;img"));
        assert!(html.contains("href=\"https://desk.acme.test/inbox/conversations/7\""));
        let text = n.email_text();
        assert!(
            text.contains("<script>alert('x')</script>"),
            "plain text stays as written"
        );
        assert!(
            text.contains("Open the conversation: https://desk.acme.test/inbox/conversations/7")
        );
    }

    #[test]
    fn push_payload_carries_title_body_and_deep_link() {
        let payload: serde_json::Value =
            serde_json::from_slice(&notice(&"x".repeat(500)).push_payload()).unwrap();
        assert_eq!(payload["title"], "Visitor #3 on Website is assigned to you");
        assert_eq!(
            payload["url"],
            "https://desk.acme.test/inbox/conversations/7"
        );
        assert_eq!(payload["body"].as_str().unwrap().len(), 200);
    }
}
