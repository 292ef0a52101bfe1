"""The agent desktop: server-rendered pages (Jinja2), a little hand-written JavaScript, live updates over
server-sent events (docs/web.md)."""
