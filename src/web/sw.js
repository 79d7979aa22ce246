// Switchboard's service worker: shows "assigned to you" web push notifications and opens the
// conversation when one is clicked. The payload is {title, body, url, conversation_id}; it is
// shown as plain text by the browser's notification UI.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (_) {
    data = { body: event.data ? event.data.text() : "" };
  }
  const options = {
    body: data.body || "",
    data: { url: data.url || "/" },
    tag: data.conversation_id ? "conversation-" + data.conversation_id : undefined,
  };
  event.waitUntil(self.registration.showNotification(data.title || "Switchboard", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const exact = windows.find((client) => client.url === url);
      if (exact) return exact.focus();
      // An inbox tab already open is reused: the chat opens there instead of in a new tab.
      const inbox = windows.find((client) => new URL(client.url).origin === self.location.origin && "navigate" in client);
      if (inbox) {
        const moved = await inbox.navigate(url).catch(() => null);
        if (moved) return moved.focus();
      }
      return self.clients.openWindow(url);
    })(),
  );
});
