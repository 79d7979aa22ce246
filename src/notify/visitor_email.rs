//! What the email of replies a visitor missed says: who answered, what they wrote, and the
//! link to `{public_url}/chat/{token}` where the visitor reads and continues that chat. Plain
//! text, so nobody's words can be markup. The payload grows while the email waits: replies
//! written before it goes join it.

use serde::{Deserialize, Serialize};

use super::email::Mail;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitorRepliesEmail {
    /// The name the visitor gave, if any.
    pub visitor_name: Option<String>,
    /// Whom they chatted with: the workspace's name.
    pub team_name: String,
    pub link: String,
    pub replies: Vec<MissedReply>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissedReply {
    pub operator_name: String,
    pub body: String,
}

impl VisitorRepliesEmail {
    pub fn email(&self, to: &str) -> Mail {
        let greeting = match &self.visitor_name {
            Some(name) => format!("Hi {name},"),
            None => "Hi,".to_owned(),
        };
        let what = if self.replies.len() == 1 {
            "a reply"
        } else {
            "new replies"
        };
        let replies: Vec<String> = self
            .replies
            .iter()
            .map(|r| {
                let quoted: Vec<String> = r.body.lines().map(|line| format!("> {line}")).collect();
                format!("{} wrote:\n{}", r.operator_name, quoted.join("\n"))
            })
            .collect();
        Mail {
            to: to.to_owned(),
            subject: format!("{} replied to your chat", self.team_name),
            text: format!(
                "{greeting}\n\nYou have {what} in your chat with {team}:\n\n{replies}\n\n\
                 Read the whole chat and answer here:\n\n    {link}\n\n\
                 You get this email because you left this address in the chat.\n",
                team = self.team_name,
                replies = replies.join("\n\n"),
                link = self.link,
            ),
            html: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_missed_reply_is_quoted_with_who_wrote_it_and_the_link() {
        let mail = VisitorRepliesEmail {
            visitor_name: Some("Dana".into()),
            team_name: "Acme".into(),
            link: "https://desk.acme.test/chat/tok".into(),
            replies: vec![
                MissedReply {
                    operator_name: "Ana".into(),
                    body: "Your parcel left today.\nTracking: 123".into(),
                },
                MissedReply {
                    operator_name: "Bob".into(),
                    body: "<b>Anything else?</b>".into(),
                },
            ],
        }
        .email("dana@example.com");
        assert_eq!(mail.to, "dana@example.com");
        assert_eq!(mail.subject, "Acme replied to your chat");
        assert!(
            mail.text
                .starts_with("Hi Dana,\n\nYou have new replies in your chat with Acme:")
        );
        assert!(
            mail.text
                .contains("Ana wrote:\n> Your parcel left today.\n> Tracking: 123\n\nBob wrote:\n> <b>Anything else?</b>\n")
        );
        assert!(mail.text.contains("    https://desk.acme.test/chat/tok\n"));
        assert_eq!(mail.html, None, "plain text: nobody's words become markup");
    }
}
