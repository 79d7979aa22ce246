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
      for (const client of windows) {
        if (client.url === url && "focus" in client) {
          return client.focus();
        }
      }
      return self.clients.openWindow(url);
    })(),
  );
});
