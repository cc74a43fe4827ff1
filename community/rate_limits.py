"""Rate limits shared by every entry point (DESIGN.md: login about 10 a minute per IP and
per account; posting, voting, flagging and check-in per user and per IP)."""
LOGIN = "10/minute"
WRITE = "30/minute"
VOTE = "60/minute"
FLAG = "10/minute"
CHECKIN = "30/minute"
# The composer previews as one pauses typing.
PREVIEW = "120/minute"
