"""Prints the messages of a Maildir (as written by aiosmtpd's Mailbox handler) as JSON:
[{"to", "subject", "message_id", "text", "html"}], decoding MIME parts."""
import json
import mailbox
import sys

messages = []
for message in mailbox.Maildir(sys.argv[1], create=False):
    parts = {"text": "", "html": ""}
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            parts["text" if kind == "text/plain" else "html"] += payload
    messages.append({
        "to": message.get("To", ""),
        "subject": message.get("Subject", ""),
        "message_id": message.get("Message-ID", ""),
        **parts,
    })
print(json.dumps(messages))
