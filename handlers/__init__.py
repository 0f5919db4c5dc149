"""The core's actions: each takes a `Context` and returns the replies; none sends anything."""
