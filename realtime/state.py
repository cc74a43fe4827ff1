"""What this process knows about its sockets, shared by the handlers, the bridge and the guard."""
from dataclasses import dataclass, field

REALTIME_EXTENSION = "roundtable.realtime"


@dataclass
class Connection:
    user_id: int
    session_id: int  # the web or device session it opened with: the socket ends with it
    rooms: set[str] = field(default_factory=set)


# This process's sockets (each socket lives on exactly one process).
connections: dict[str, Connection] = {}
