"""Pure rules: no database, no chat platform, no scheduler — testable with plain values."""
