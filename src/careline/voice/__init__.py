"""Voice / CTI: telephony events from a PBX, screen pop, calls in the customer's history (docs/channels.md)."""
