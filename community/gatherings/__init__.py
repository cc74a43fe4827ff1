"""Events at the vendor's conferences: registration, check-in, finding people, meetings.

Named `gatherings` so it never gets confused with `community.events`, the domain events.
"""
