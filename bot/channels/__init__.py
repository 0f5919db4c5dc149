"""Channels translate platform messages to `Inbound` and `Reply` back; they hold no rules."""
