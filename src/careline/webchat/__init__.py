"""The web chat channel's own writes and reads (docs/channels.md#web-chat).

Its adapter is channels/adapters/webchat.py."""
