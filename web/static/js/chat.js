// Chat page skeleton: composer behaviour (Enter sends, Shift+Enter new line, dir="auto").
// Streaming (POST /v1/chat/turns, SSE /v1/chat/turns/{id}/events with Last-Event-ID,
// cancel, conversations CRUD) is wired when the chat API is on main.

export function start() {
  const input = document.getElementById("composer-input");
  const form = document.getElementById("composer");
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", (event) => event.preventDefault());
}
