"""What this process knows about its sockets, shared by the handlers, the bridge and the guard."""
from dataclasses import dataclass, field

REALTIME_EXTENSION = "roundtable.realtime"


@dataclass
class Connection:
    user_id: int
    device_session_id: int | None  # None for a web page, which signs in with its cookie session
    rooms: set[str] = field(default_factory=set)


# This process's sockets (each socket lives on exactly one process).
connections: dict[str, Connection] = {}
