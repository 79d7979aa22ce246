//! Email over SMTP (lettre, rustls).

use lettre::message::{Mailbox, MultiPart, header::MessageId};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};

use super::content::Notice;

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

    /// Sends the notice. The Message-ID is derived from `idempotency_key`, so a retry after a
    /// crash between sending and recording it carries the same id and mail systems can drop
    /// the duplicate.
    pub async fn send(&self, notice: &Notice, idempotency_key: &str) -> Result<(), String> {
        let to: Mailbox = notice
            .recipient_email
            .parse()
            .map_err(|e| format!("recipient address: {e}"))?;
        let domain = self.from.email.domain().to_owned();
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(notice.title())
            .header(MessageId::from(format!("<{idempotency_key}@{domain}>")))
            .multipart(MultiPart::alternative_plain_html(
                notice.email_text(),
                notice.email_html(),
            ))
            .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}
