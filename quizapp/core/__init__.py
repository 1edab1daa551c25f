"""Cross-cutting pieces every feature uses: database base, clock, auth, errors."""
