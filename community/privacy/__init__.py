"""Members' data rights: their export (GDPR art. 15 and 20) and their erasure (art. 17)."""
