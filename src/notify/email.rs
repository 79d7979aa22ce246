//! Email over SMTP (lettre, rustls).

use lettre::message::{Mailbox, MultiPart, SinglePart, header::MessageId};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};

/// One email, written: what the notification's content (`content`, `account_email`) makes of
/// its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// An HTML alternative to the text, when there is one.
    pub html: Option<String>,
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("invalid SMTP URL: {0}")]
    Url(#[source] lettre::transport::smtp::Error),
    #[error("invalid from address {0:?}: {1}")]
    From(String, #[source] lettre::address::AddressError),
}

impl Mailer {
    /// `url` as lettre reads it: `smtp://user:pass@host:587?tls=required`,
    /// `smtps://user:pass@host:465`, or plain `smtp://host:25`.
    pub fn new(url: &str, from: &str) -> Result<Mailer, MailerError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(MailerError::Url)?
            .build();
        let from = from
            .parse()
            .map_err(|e| MailerError::From(from.to_owned(), e))?;
        Ok(Mailer { transport, from })
    }

    /// Sends the mail. The Message-ID is derived from `idempotency_key`, so a retry after a
    /// crash between sending and recording it carries the same id and mail systems can drop
    /// the duplicate.
    pub async fn send(&self, mail: &Mail, idempotency_key: &str) -> Result<(), String> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| format!("recipient address: {e}"))?;
        let domain = self.from.email.domain().to_owned();
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.as_str())
            .header(MessageId::from(format!("<{idempotency_key}@{domain}>")));
        let message = match &mail.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(SinglePart::plain(mail.text.clone())),
        }
        .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}
