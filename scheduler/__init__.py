"""Periodic jobs (monthly draw, annual ranking, reminders, announcements) — built in their own issue."""
