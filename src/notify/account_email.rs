//! What the emails about someone's account say: an invitation to join a workspace and a
//! password reset link. Plain text; each payload is captured when the email is queued (it is
//! the outbox row's payload) and holds the one-time link, which nothing else stores.

use serde::{Deserialize, Serialize};

use super::email::Mail;
use crate::domain::{Millis, Role};
use crate::timefmt::rfc3339;

/// `{public_url}/invite/{token}`, and who invites whom to what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitationEmail {
    pub invitee_name: String,
    pub inviter_name: String,
    pub workspace_name: String,
    pub role: Role,
    pub link: String,
    pub expires_at: Millis,
}

impl InvitationEmail {
    pub fn email(&self, to: &str) -> Mail {
        let role = match self.role {
            Role::Owner => "an owner",
            Role::Admin => "an admin",
            Role::Operator => "a teammate",
        };
        Mail {
            to: to.to_owned(),
            subject: format!(
                "{} invited you to {} on Switchboard",
                self.inviter_name, self.workspace_name
            ),
            text: format!(
                "Hi {name},\n\n{inviter} invited you to join {workspace} on Switchboard as {role}, \
                 to answer your customers' chats together.\n\n\
                 Choose your password and sign in here:\n\n    {link}\n\n\
                 The link works once and expires on {expires}. If you did not expect this \
                 invitation, you can ignore this email.\n",
                name = self.invitee_name,
                inviter = self.inviter_name,
                workspace = self.workspace_name,
                link = self.link,
                expires = readable(self.expires_at),
            ),
            html: None,
        }
    }
}

/// `{public_url}/reset/{token}` for one operator's account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordResetEmail {
    pub name: String,
    pub workspace_name: String,
    pub link: String,
    pub expires_at: Millis,
}

impl PasswordResetEmail {
    pub fn email(&self, to: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: format!(
                "Reset your Switchboard password for {}",
                self.workspace_name
            ),
            text: format!(
                "Hi {name},\n\nSomeone, hopefully you, asked to reset the password you use to \
                 sign in to {workspace} on Switchboard as {to}.\n\n\
                 Choose a new password here:\n\n    {link}\n\n\
                 The link works once, until {expires}. If you did not ask for it, ignore this \
                 email: your password stays as it is.\n",
                name = self.name,
                workspace = self.workspace_name,
                link = self.link,
                expires = readable(self.expires_at),
            ),
            html: None,
        }
    }
}

/// `2026-01-08 14:05 UTC`.
fn readable(at: Millis) -> String {
    let text = rfc3339::format(at);
    format!("{} {} UTC", &text[..10], &text[11..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invitation_says_who_invites_to_what_and_carries_the_link() {
        let mail = InvitationEmail {
            invitee_name: "Bob".into(),
            inviter_name: "Ana".into(),
            workspace_name: "Acme".into(),
            role: Role::Admin,
            link: "https://desk.acme.test/invite/tok".into(),
            expires_at: 1_764_000_000_500,
        }
        .email("bob@acme.test");
        assert_eq!(mail.to, "bob@acme.test");
        assert_eq!(mail.subject, "Ana invited you to Acme on Switchboard");
        assert!(mail.text.starts_with("Hi Bob,"), "{}", mail.text);
        assert!(mail.text.contains("as an admin"), "{}", mail.text);
        assert!(
            mail.text
                .contains("    https://desk.acme.test/invite/tok\n")
        );
        assert!(mail.text.contains("expires on 2025-11-24 16:00 UTC"));
        assert_eq!(mail.html, None);
    }

    #[test]
    fn the_reset_names_the_account_and_carries_the_link() {
        let mail = PasswordResetEmail {
            name: "Bob".into(),
            workspace_name: "Acme".into(),
            link: "https://desk.acme.test/reset/tok".into(),
            expires_at: 1_764_000_000_500,
        }
        .email("bob@acme.test");
        assert_eq!(mail.subject, "Reset your Switchboard password for Acme");
        assert!(
            mail.text
                .contains("sign in to Acme on Switchboard as bob@acme.test")
        );
        assert!(mail.text.contains("    https://desk.acme.test/reset/tok\n"));
        assert!(mail.text.contains("until 2025-11-24 16:00 UTC"));
    }
}
