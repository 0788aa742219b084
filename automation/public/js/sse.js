// Server-Sent Events read with fetch (an EventSource cannot send the token in a header).

/**
 * Reads the stream at url; onEvent(event) returns false to stop. Resolves with the terminal
 * event's type ("succeeded" or "failed"), or null if the stream ended or was left first.
 */
export async function readEvents(url, token, signal, onEvent) {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" }, signal });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return last;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (!data) continue;
      const event = JSON.parse(data);
      if (onEvent(event) === false) return null;
      if (event.type === "succeeded" || event.type === "failed") last = event.type;
    }
  }
}
